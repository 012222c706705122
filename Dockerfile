# The API image: `server/main.ts` run by tsx (a runtime dependency), as the unprivileged `node`
# user of the official Node image. docker-compose.yml also uses it for the one-shot migration
# and for preparing a k6 load run. Node 26 is the active LTS line (Node 20 reached end-of-life
# on 2026-04-30); the test suite runs on 26 as well as on 20, the floor CI machines still have.
FROM node:26-slim

ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/app/.data

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .
# The only folder the app writes to (the load-run target file when preparing a k6 run).
RUN mkdir -p /app/.data/load && chown -R node:node /app/.data

USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--import", "tsx", "server/main.ts"]
