"""Integration test harness for s3ha: real S3 servers, real S3 clients, the real s3ha binary."""
