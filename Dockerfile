# wrike-mcp in a container.
#
#   docker build -t wrike-mcp .
#
# stdio (the default; what Claude Desktop, VS Code and Cursor spawn):
#   docker run -i --rm -e WRIKE_ACCESS_TOKEN wrike-mcp
#   docker run -i --rm wrike-mcp --sandbox                  # no Wrike account needed
#
# streamable HTTP on http://127.0.0.1:8000/mcp:
#   docker run --rm -p 127.0.0.1:8000:8000 -e WRIKE_ACCESS_TOKEN wrike-mcp --transport http --host 0.0.0.0 --port 8000
#
# OAuth instead of a permanent token: log in once (paste the redirected URL back), keep the tokens in a volume
#   docker run -it --rm -e WRIKE_CLIENT_ID -e WRIKE_CLIENT_SECRET -v wrike-mcp-tokens:/home/wrike/.wrike-mcp --entrypoint wrike-mcp wrike-mcp auth login --no-browser
#   docker run -i --rm -e WRIKE_CLIENT_ID -e WRIKE_CLIENT_SECRET -v wrike-mcp-tokens:/home/wrike/.wrike-mcp wrike-mcp
#
# Security of the HTTP mode: inside a container the server must bind 0.0.0.0 to be reachable. wrike-mcp
# keeps its Host/Origin checks (DNS-rebinding protection) on whatever the bind address: by default only
# loopback names (127.0.0.1, localhost) are accepted, which is what a port published on 127.0.0.1 receives.
# Serving a real host name needs -e WRIKE_ALLOWED_HOSTS=mcp.example.com (and WRIKE_ALLOWED_ORIGINS). The
# HTTP endpoint has no client authentication: whoever reaches the port acts with the configured Wrike
# token. So publish the port on loopback only (-p 127.0.0.1:8000:8000, as above), or put it behind a
# reverse proxy that terminates TLS and authenticates callers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin wrike \
    && install -d -m 0700 -o wrike -g wrike /home/wrike/.wrike-mcp

WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && rm -rf /build

# No OS keyring in a container: OAuth tokens (`wrike-mcp auth login --no-browser`) go to this 0600 file;
# mount a volume on /home/wrike/.wrike-mcp to keep them (see the top of this file).
ENV WRIKE_MCP_TOKEN_STORE=/home/wrike/.wrike-mcp/tokens.json
USER wrike
WORKDIR /home/wrike

EXPOSE 8000
# Healthy when the HTTP transport answers on its port (any status: a GET without a session gets a 4xx;
# http.client, unlike urllib, does not raise on it). A stdio server has no port and always reports healthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import http.client, sys; from wrike_mcp.cli import build_parser; a = open('/proc/1/cmdline', 'rb').read().decode().split('\\0')[:-1]; o = build_parser().parse_args(a[a.index('serve'):]) if 'serve' in a else None; sys.exit(0) if o is None or o.transport != 'http' else None; c = http.client.HTTPConnection('127.0.0.1', o.port, timeout=4); c.request('GET', '/mcp'); c.getresponse()"]

# The MCP Registry checks that the image belongs to the server named in server.json.
LABEL io.modelcontextprotocol.server.name="io.github.wrike-mcp/wrike-mcp"
ENTRYPOINT ["wrike-mcp", "serve"]
CMD []
