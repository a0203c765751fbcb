"""Copy-number and structural-variant input: segments, gene tables, SV VCFs, fusions.

Entry points for ``annotator.annotation.run`` live in ``annotator.cnv.handler``
(``make_vcf_sv_handler``, ``add_external_calls``); the pieces are usable alone:

* ``readers.read_cnv(path, sample) -> CnvInput`` (one module per format)
* ``genecall.call_genes(cnv, regions, exons, thresholds, purity, ploidy)``
* ``breakends.parse(chrom, pos, alt, info, format_cn) -> SvEvent``
* ``fusion.locate / analyse / fusion_call / is_fusion / kinase_retained``
* ``thresholds.CnThresholds``, ``cn_from_log2`` (purity correction)

See docs/cnv_sv.md.
"""
