# nats-server, laid out like the public nats image (binary at /nats-server,
# default config /nats-server.conf), so compose.yaml runs either one.
# Built FROM scratch by `make images` from the nats-server module in go.mod.
FROM scratch
COPY nats-server /nats-server
COPY nats-server.conf /nats-server.conf
EXPOSE 4222 6222 8222
ENTRYPOINT ["/nats-server"]
CMD ["--config", "nats-server.conf"]
