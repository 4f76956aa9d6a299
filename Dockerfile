# The chat server as a container image: `docker build -t chat-server .`
#
# Build stage: `deno task compile` makes one executable with the web client
# inside (it downloads Deno's `denort` runtime, so the build needs network).
# Runtime stage: that executable on a distroless base (glibc, no shell, no
# package manager), as a non-root user. See docs/deploy.md, "Container".
ARG DENO_VERSION=2.9.6

FROM denoland/deno:${DENO_VERSION} AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY main.ts mod.ts ./
COPY src/ src/
COPY web/ web/
RUN deno task compile && mkdir -p /data

# Alternative runtime, no compile step: the full `deno` with the module graph
# cached at build time (`docker build --target deno-run .`). Same flags, env and
# volume; larger image.
FROM denoland/deno:${DENO_VERSION} AS deno-run
WORKDIR /app
COPY --from=build /src/deno.json /src/deno.lock /src/main.ts /src/mod.ts ./
COPY --from=build /src/src/ src/
COPY --from=build /src/web/ web/
RUN deno cache main.ts && mkdir -p /data && chown deno:deno /data
USER deno
ENV CHAT_ADDR=0.0.0.0:8080 CHAT_HTTP=0.0.0.0:8081 CHAT_IRC=0.0.0.0:6667 CHAT_DB=/data/chat.db
VOLUME /data
EXPOSE 8080 8081 6667
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
  CMD ["deno", "run", "--cached-only", "--allow-net", "--allow-env", "main.ts", "healthcheck"]
ENTRYPOINT ["deno", "run", "--cached-only", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "main.ts"]
CMD []

# The default image: the compiled executable.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/dist/chat-server /usr/local/bin/chat-server
# An empty /data owned by the non-root user: a new volume takes its owner from it.
COPY --from=build --chown=nonroot:nonroot /data /data
USER nonroot
# Every listener on all interfaces inside the container; the history file on the volume.
ENV CHAT_ADDR=0.0.0.0:8080 CHAT_HTTP=0.0.0.0:8081 CHAT_IRC=0.0.0.0:6667 CHAT_DB=/data/chat.db
VOLUME /data
EXPOSE 8080 8081 6667
# No curl in the image: the executable asks its own /healthz (on CHAT_HTTP).
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
  CMD ["chat-server", "healthcheck"]
ENTRYPOINT ["chat-server"]
CMD []
