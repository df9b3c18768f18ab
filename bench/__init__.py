"""Benchmarks and data generators (not tests). `./manage.sh bench` runs bench.earn_bench."""
