"""One module per file format: readers (``vcfin``) and writers (tsv, json, parquet, vcf ...)."""
