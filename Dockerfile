# attache: an Envoy-compatible sidecar proxy on Node.js.
# Stage 1 builds the optional Rust N-API addon (no crates: it has no dependencies).
FROM rust:1-bookworm AS native
WORKDIR /src/native
COPY native/ ./
# Named as src/native/addon.ts looks for it: attache.linux-<Node's process.arch>.node.
RUN cargo build --release --offline \
 && case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac \
 && mkdir /out && cp target/release/libattache_native.so "/out/attache.linux-${arch}.node"

# Stage 2 builds the TypeScript.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY scripts/ scripts/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src/ src/
COPY workers/ workers/
COPY bench/ bench/
COPY test/ test/
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

# Stage 3: the runtime image. Same flags as envoy, so it drops into a Pod spec or pilot-agent.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# glibc makes up to 8 malloc arenas per core; V8's background compile/GC threads and each worker
# thread keep freed memory in their own arena. Two arenas: idle RSS -5 MiB at --concurrency 2,
# -13 MiB at 4 (no CPU-per-request change measurable in short wrk runs).
ENV MALLOC_ARENA_MAX=2
COPY --from=build /app/node_modules node_modules/
# The proxy only: the compiled tests and benches stay in the build stage.
COPY --from=build /app/dist/src dist/src/
COPY --from=build /app/dist/workers dist/workers/
COPY package.json ./
COPY bin/ bin/
COPY examples/ examples/
COPY --from=native /out/ native/
# Istio's pilot-agent (and scripts written for Envoy) start /usr/local/bin/envoy with envoy's flags:
# that name runs attache.
RUN printf '#!/bin/sh\nexec node /app/bin/attache "$@"\n' > /usr/local/bin/envoy && chmod 755 /usr/local/bin/envoy
# Envoy's conventional ports: 10000 (listener in the examples), 9901 (admin).
EXPOSE 10000 9901
USER node
ENTRYPOINT ["node", "/app/bin/attache"]
# A placeholder: front-proxy.yaml expects upstreams on 127.0.0.1:8081/8082 (npm run demo). Mount your
# bootstrap and pass it: `docker run -v $PWD/envoy.yaml:/etc/envoy/envoy.yaml IMAGE -c /etc/envoy/envoy.yaml`.
CMD ["-c", "/app/examples/front-proxy.yaml"]
