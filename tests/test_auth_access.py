"""Access control over everything served: every endpoint tried without a token, with wrong,
malformed, expired, forged and out-of-scope tokens, with tampered or expired signed URLs,
and with path tricks; each is refused (401/403/404, or 400 for a malformed request), logged,
and answered with the spec's error JSON, never with data.  Then what is allowed works,
including CORS for the configured origin."""
from __future__ import annotations

import http.client
import logging
import time

import jwt
import pytest

pytest.importorskip("waitress")
from depth_fixtures.served_data import build_served_data  # noqa: E402 (after the skip guard)
from depth_fixtures.server import ServedApp  # noqa: E402
from htsget_support import call, download, make_bam, make_vcf  # noqa: E402
from sparkbam_py.errors import ConfigError  # noqa: E402
from sparkbam_py.serve.router import build_service  # noqa: E402
from sparkbam_py.serve.tokens import mint_token  # noqa: E402

SECRET = b"s" * 40
GOOD, NARROW = "good-token-0123456789abcdef", "narrow-token-0123456789abcdef"
ORIGIN = "http://viewer.example:8080"
# (method, path, query): every kind of endpoint; "runs/a" is what NARROW may not read.
ENDPOINTS = [
    ("GET", "/reads/runs/a", "referenceName=chr1"),
    ("POST", "/reads/runs/a", ""),
    ("GET", "/variants/calls", ""),
    ("GET", "/htsget/files/runs/a.bam", ""),
    ("GET", "/htsget/files/runs/a.bam.bai", ""),
    ("GET", "/htsget/files/calls.vcf.gz.tbi", ""),
    ("GET", "/api/contigs", ""),
    ("GET", "/api/coverage/chrA", "start=0&end=100"),
    ("GET", "/api/reads/chrA", "start=0&end=100"),
    ("GET", "/files/served.bam", ""),
]
WRONG_CREDENTIALS = {
    "no token": ({}, 401),
    "unknown token": ({"Authorization": "Bearer not-a-token-we-know-of-at-all"}, 401),
    "not bearer": ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    "empty bearer": ({"Authorization": "Bearer "}, 401),
    "expired signed": ({"Authorization": "Bearer " + mint_token(SECRET, ["*"], 60, now=time.time() - 3600)}, 401),
    "forged signed": ({"Authorization": "Bearer " + mint_token(b"x" * 40, ["*"], 600)}, 401),
    "unsigned (alg none)": ({"Authorization": "Bearer " + jwt.encode({"ids": ["*"], "exp": time.time() + 600},
                                                                     None, algorithm="none")}, 401),
    "signed without ids": ({"Authorization": "Bearer " + jwt.encode({"exp": time.time() + 600}, SECRET)}, 401),
    "out of scope (file)": ({"Authorization": f"Bearer {NARROW}"}, 403),
    "out of scope (signed)": ({"Authorization": "Bearer " + mint_token(SECRET, ["other/*"], 600)}, 403),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    make_bam(root / "runs", "a", n_reads=200)
    make_vcf(root, "calls", n=200)
    bam, store = build_served_data(tmp_path_factory.mktemp("coverage"), n=300)
    tokens = root.parent / "tokens.txt"
    tokens.write_text(f"# test tokens\n{GOOD} *\n{NARROW} calls other/*\n")
    secret = root.parent / "secret"
    secret.write_bytes(SECRET)
    app = build_service(str(store), [str(bam)], [str(root)], str(tokens), str(secret), cors_origins=[ORIGIN])
    return app


def assert_refused(answer, status):
    assert answer.status == status, (answer.status, answer.body[:300])
    content = answer.json()
    assert set(content) == {"htsget"} and set(content["htsget"]) == {"error", "message"}
    assert b"BAM\x01" not in answer.body and b"\x1f\x8b" not in answer.body


@pytest.mark.parametrize("credential", list(WRONG_CREDENTIALS))
@pytest.mark.parametrize("method,path,query", ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_every_endpoint_refuses_wrong_credentials(service, caplog, credential, method, path, query):
    headers, status = WRONG_CREDENTIALS[credential]
    if credential.startswith("out of scope") and path.startswith("/variants/") or path.endswith(".tbi"):
        status = 200 if "file" in credential else status  # NARROW may read "calls"
    with caplog.at_level(logging.WARNING, logger="sparkbam_py.serve.auth"):
        answer = call(service, path, query, method, b'{"format": "BAM"}' if method == "POST" else b"", headers)
    if status == 200:
        assert answer.status == 200
        return
    assert_refused(answer, status)
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused")]
    assert len(logged) == 1 and path[:20] in logged[0]
    secret_part = headers.get("Authorization", "").partition(" ")[2]
    assert not secret_part or secret_part not in logged[0], "a credential was logged"


SIGNED_URL_TRICKS = ["tampered path", "tampered signature", "expired", "no signature", "token in header and query"]


@pytest.mark.parametrize("trick", SIGNED_URL_TRICKS)
def test_signed_ticket_urls_cannot_be_bent(service, caplog, trick):
    ticket = call(service, "/reads/runs/a", "referenceName=chr1", headers={"Authorization": f"Bearer {GOOD}"}).json()
    url = next(u["url"] for u in ticket["htsget"]["urls"] if u["url"].startswith("http"))
    path, query = url.split("testserver", 1)[1].split("?", 1)
    params = dict(pair.split("=") for pair in query.split("&"))
    headers = {}
    if trick == "tampered path":
        path = path.replace("a.bam", "a.bam.bai")
    elif trick == "tampered signature":
        params["signature"] = params["signature"][:-2] + ("00" if params["signature"][-2:] != "00" else "11")
    elif trick == "expired":
        params["expires"] = str(int(time.time()) - 1)
    elif trick == "no signature":
        params = {}
    else:
        params["access_token"], headers = GOOD, {"Authorization": f"Bearer {GOOD}"}
    with caplog.at_level(logging.WARNING, logger="sparkbam_py.serve.auth"):
        answer = call(service, path, "&".join(f"{k}={v}" for k, v in params.items()), headers=headers)
    assert_refused(answer, 400 if trick.startswith("token in") else 401)
    assert sum(r.getMessage().startswith("refused") for r in caplog.records) == 1


PATH_TRICKS = ["/reads/runs/../runs/a", "/reads/runs/%2e%2e/runs/a", "/reads/runs%2F..%2F..%2Fetc",
               "/htsget/files/runs/../../secret", "/htsget/files/%2e%2e/%2e%2e/etc/passwd",
               "/htsget/files//etc/passwd", "/htsget/files/runs/a.bam%00.bai", "/reads/runs/a%5C..%5Ca"]


def test_path_tricks_over_http_are_not_found(service, caplog):
    """Raw request lines (no client-side normalisation) through waitress, with a token that may read all."""
    with ServedApp(service) as server, caplog.at_level(logging.WARNING, logger="sparkbam_py.serve.auth"):
        for raw in PATH_TRICKS:
            connection = http.client.HTTPConnection("127.0.0.1", server.server.effective_port, timeout=10)
            connection.request("GET", raw, headers={"Authorization": f"Bearer {GOOD}"})
            response = connection.getresponse()
            body = response.read()
            connection.close()
            assert response.status in (400, 404), (raw, response.status)
            assert b"\x1f\x8b" not in body and b"BAM\x01" not in body and b"root:" not in body
        assert sum(r.getMessage().startswith("refused") for r in caplog.records) == len(PATH_TRICKS)


def test_allowed_requests_and_cors(service):
    good = {"Authorization": f"Bearer {GOOD}"}
    for method, path, query in ENDPOINTS:
        answer = call(service, path, query, method, b'{"format": "BAM"}' if method == "POST" else b"",
                      dict(good, Origin=ORIGIN))
        assert answer.status == 200, (path, answer.body[:200])
        assert answer.headers["access-control-allow-origin"] == ORIGIN
    signed = mint_token(SECRET, ["runs/*"], 600, subject="alice")
    ticket = call(service, "/reads/runs/a", "", headers={"Authorization": f"Bearer {signed}"}).json()
    assert download(service, ticket)[:2] == b"\x1f\x8b"  # the data URLs need no token: they are signed
    by_query = call(service, "/htsget/files/runs/a.bam.bai", f"access_token={GOOD}")
    assert by_query.status == 200 and by_query.body[:4] == b"BAI\x01"
    refused = call(service, "/reads/runs/a", "", headers={"Origin": ORIGIN})
    assert refused.status == 401 and refused.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-origin" not in call(service, "/reads/runs/a", "", headers=dict(
        good, Origin="http://elsewhere.example")).headers
    preflight = call(service, "/reads/runs/a", "", "OPTIONS", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
    assert preflight.status == 204 and preflight.headers["access-control-allow-headers"] == "authorization"
    assert preflight.headers["access-control-max-age"] == str(30 * 24 * 3600)
    assert call(service, "/reads/runs/a", "", "OPTIONS", headers={
        "Origin": "http://elsewhere.example", "Access-Control-Request-Method": "GET"}).status == 403
    for public in ("/reads/service-info", "/variants/service-info", "/"):
        assert call(service, public).status == 200


def test_unprotected_only_on_loopback_and_when_asked(tmp_path):
    make_bam(tmp_path / "d", "a", n_reads=20)
    folders = [str(tmp_path / "d")]
    with pytest.raises(ConfigError, match="no token source"):
        build_service(htsget_dirs=folders)
    for host in ("0.0.0.0", "192.168.1.4", "::", "example.org"):
        with pytest.raises(ConfigError, match="refused on"):
            build_service(htsget_dirs=folders, no_auth=True, host=host)
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        open_app = build_service(htsget_dirs=folders, no_auth=True, host=host)
        assert call(open_app, "/reads/a", "class=header").status == 200
        # behind a port forward or a proxy, clients from elsewhere are still refused
        assert_refused(call(open_app, "/reads/a", "class=header", remote="10.1.2.3"), 403)
    with pytest.raises(ConfigError, match="nothing to serve"):
        build_service(no_auth=True)
    weak = tmp_path / "weak"
    weak.write_text("short *\n")
    with pytest.raises(ConfigError, match="line 1"):
        build_service(htsget_dirs=folders, token_file=str(weak))
    (tmp_path / "s").write_bytes(b"too short")
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        build_service(htsget_dirs=folders, secret_file=str(tmp_path / "s"))
