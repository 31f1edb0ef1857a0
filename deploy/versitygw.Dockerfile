# versitygw, an S3 server on a posix directory: the demo's bucket store.
# The binary sits where the public image has it, and arguments go straight
# to it as they do there, so compose.yaml runs either one.
FROM scratch
COPY rootfs/ /
# The bucket root and the metadata sidecar belong to the runtime user, so
# named volumes mounted there start out writable by it.
COPY --chown=65532:65532 state/ /
COPY versitygw /usr/local/bin/versitygw
USER 65532:65532
EXPOSE 7070
ENTRYPOINT ["/usr/local/bin/versitygw"]
