# s3load: a static binary, CA certificates for https S3 endpoints, nothing
# else (no shell: the health check is `s3load health`). Built FROM scratch by
# `make images` from the context deploy/build/s3load, which the Makefile
# fills (binary, the build host's CA bundle, the directory skeleton).
FROM scratch
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY rootfs/ /
# The output directory belongs to the runtime user, so a named volume
# mounted there starts out writable by it (Docker copies the owner).
COPY --chown=65532:65532 data/ /var/lib/s3load/
COPY s3load /s3load
USER 65532:65532
# Workers and the coordinator serve /healthz with --health-addr :8081.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/s3load", "health", "--url", "http://127.0.0.1:8081/healthz"]
ENTRYPOINT ["/s3load"]
CMD ["--help"]
LABEL org.opencontainers.image.title="s3load" \
      org.opencontainers.image.description="Full loads of S3 folders into Parquet tables" \
      org.opencontainers.image.source="https://github.com/s3load/s3load"
