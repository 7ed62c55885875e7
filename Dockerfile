# A small headroom image: build in debian:bookworm, run in bookworm-slim with only the runtime
# libraries the binary links (the same list as the Debian package's Depends), and the CA store https
# verifies certificates against.
#   docker build -t headroom .
#   docker run --rm --network host -v "$PWD:/work" -w /work headroom run scenario.yaml --out out
# The entrypoint is headroom: the generator and merge pods of `headroom k8s` (docs/distributed.md)
# pass the subcommand as their args.
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libgtest-dev libgmock-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev \
      libpq-dev libhiredis-dev libre2-dev zlib1g-dev liburing-dev libssl-dev nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# uPlot for the HTML report, as pinned in web/package-lock.json (the browser tests' packages are not needed).
RUN cd web && npm ci --omit=dev --no-audit --no-fund
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build --target headroom \
 && cmake --install build --prefix /opt/headroom --strip

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libyaml-cpp0.7 libpq5 libhiredis0.14 libre2-9 liburing2 zlib1g libssl3 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/headroom/bin/headroom /usr/bin/headroom
COPY --from=build /opt/headroom/share/doc/headroom /usr/share/doc/headroom
USER nobody
ENTRYPOINT ["headroom"]
CMD ["--help"]
