# A libp2p-chord ring node (the default target) and the browser chat page (target chat-page).
#
#   docker build -t libp2p-chord .                           the node
#   docker build --target chat-page -t libp2p-chord-chat .   the page
#   docker compose -f deploy/compose.yaml up                 a ring of three and the page
#
# Every build step is deploy/docker-build.sh, which the tests run outside a container; the node
# stage only copies its results. Settings are CHORD_* variables (chord-node --help lists them).
# See docs/operations.md, "Running in a container".

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN ["sh", "deploy/docker-build.sh"]

FROM nginx:1.27-alpine AS chat-page
COPY --from=build /app/examples/browser/index.html /usr/share/nginx/html/index.html
COPY --from=build /app/examples/browser/dist/ /usr/share/nginx/html/dist/

FROM node:22-bookworm-slim AS node
ENV NODE_ENV=production \
    CHORD_DATA_DIR=/home/node/chord-data \
    CHORD_LOG_FORMAT=json \
    CHORD_LISTEN=/ip4/0.0.0.0/tcp/4001,/ip4/0.0.0.0/tcp/4002/ws \
    CHORD_HTTP=0.0.0.0:9464
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/chord-node.mjs ./dist/chord-node.mjs
# the data directory exists in the image, owned by the node's user, so a volume mounted there is too
COPY --from=build --chown=node:node /app/docker-data /home/node/chord-data
USER node
VOLUME /home/node/chord-data
EXPOSE 4001 4002 9464
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 (no shell, no npm in between): it gets the SIGTERM and leaves the ring
ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/dist/chord-node.mjs"]
CMD ["run"]
