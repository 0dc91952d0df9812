#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/): valid examples and
edge cases. The structured targets read their input with libFuzzer's FuzzedDataProvider, which
takes integers from the END of the input and bytes from the front; `Fdp` below builds inputs the
same way, so each seed is written as the calls the target makes.

Usage: /usr/bin/python3 tests/fuzz/make_seeds.py   (rewrites the generated files; files added by
hand, such as reproducers of findings, are left alone)
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent / "corpus"


class Fdp:
    """The inverse of FuzzedDataProvider: records what the target will consume."""

    def __init__(self):
        self.front = bytearray()
        self.tail = bytearray()  # in consumption order; stored reversed at the end of the input

    def int_in_range(self, lo, hi, value):
        assert lo <= value <= hi
        rng, v = hi - lo, value - lo
        nbytes = 0
        while nbytes < 8 and (rng >> (8 * nbytes)) > 0:
            nbytes += 1
        # Most significant byte first; value < range + 1 so the modulo keeps it.
        for i in reversed(range(nbytes)):
            self.tail.append((v >> (8 * i)) & 0xFF)
        return self

    def boolean(self, b):
        self.tail.append(1 if b else 0)
        return self

    def u8(self, v):
        return self.int_in_range(0, 255, v)

    def u32(self, v):
        return self.int_in_range(0, 2**32 - 1, v)

    def random_length_string(self, s: bytes):
        self.front += s.replace(b"\\", b"\\\\") + b"\\ "
        return self

    def remaining(self, s: bytes):
        self.front += s
        return self

    def bytes(self):
        return bytes(self.front) + bytes(reversed(self.tail))


def write(target, name, data):
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


# ---- aws_chunked_fuzz -----------------------------------------------------------------------

SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER = 0, 1, 2
CRC32, CRC32C, CRC64NVME, SHA1, SHA256, NO_CHECKSUM = range(6)


# The ranges of aws_chunked_fuzz.cpp.
MAX_PAYLOAD, MAX_CHUNK_PIECE, MAX_CHUNKS, MAX_BUDGET, MAX_PIECE = 2048, 700, 8, 1500, 300


def chunked_seed(variant, alg, length, chunk, length_mode=1, max_chunk=1400, budget=None,
                 blank=False, unsigned_opts=(False, False, False, False), pieces=()):
    f = Fdp()
    f.int_in_range(0, 2, variant).int_in_range(0, 5, alg)
    f.int_in_range(0, MAX_PAYLOAD, length).u32(0x5EED1234 + length)
    left, chunks = length, 0
    while left > 0:
        chunks += 1
        if chunks == MAX_CHUNKS:
            break  # the last chunk takes the rest
        n = min(left, chunk)
        f.int_in_range(1, MAX_CHUNK_PIECE, chunk)
        left -= n
    f.int_in_range(0, 2, min(length_mode, 2))
    if length_mode >= 2:
        f.int_in_range(-16, 16, length_mode - 18)  # 2 -> -16 ... 34 -> +16
    f.int_in_range(1, 2 * MAX_CHUNK_PIECE, max_chunk)
    f.boolean(budget is not None)
    if budget is not None:
        f.int_in_range(0, MAX_BUDGET, budget)
    if variant != UNSIGNED_TRAILER:
        f.boolean(blank)
    else:
        for o in unsigned_opts:
            f.boolean(o)
    f.int_in_range(0, 4, 0)  # no mutation: the fuzzer adds them
    for p in pieces:
        f.int_in_range(1, MAX_PIECE, p)
    return f.bytes()


def aws_chunked():
    t = "aws_chunked_fuzz"
    write(t, "signed_two_chunks", chunked_seed(SIGNED, NO_CHECKSUM, 1000, 600, pieces=(7, 300)))
    write(t, "signed_empty", chunked_seed(SIGNED, NO_CHECKSUM, 0, 1))
    write(t, "signed_byte_at_a_time",
          chunked_seed(SIGNED, NO_CHECKSUM, 40, 16, pieces=(1,) * 60))
    write(t, "signed_no_length", chunked_seed(SIGNED, NO_CHECKSUM, 700, 300, length_mode=0))
    write(t, "signed_wrong_length", chunked_seed(SIGNED, NO_CHECKSUM, 700, 300, length_mode=19))
    write(t, "signed_chunk_too_large", chunked_seed(SIGNED, NO_CHECKSUM, 1400, 700, max_chunk=699))
    write(t, "signed_budget_too_small",
          chunked_seed(SIGNED, NO_CHECKSUM, 1400, 700, budget=699, pieces=(100, 100)))
    write(t, "signed_budget_enough", chunked_seed(SIGNED, NO_CHECKSUM, 1400, 700, budget=700))
    write(t, "signed_trailer_crc32c",
          chunked_seed(SIGNED_TRAILER, CRC32C, 1200, 700, pieces=(3, 50, 300)))
    write(t, "signed_trailer_blank_line",
          chunked_seed(SIGNED_TRAILER, CRC32, 100, 64, blank=True))
    write(t, "signed_trailer_sha256", chunked_seed(SIGNED_TRAILER, SHA256, 333, 100))
    write(t, "signed_trailer_none", chunked_seed(SIGNED_TRAILER, NO_CHECKSUM, 64, 64))
    write(t, "unsigned_crc32", chunked_seed(UNSIGNED_TRAILER, CRC32, 1000, 400, pieces=(5, 5)))
    write(t, "unsigned_crc64nvme_variants",
          chunked_seed(UNSIGNED_TRAILER, CRC64NVME, 300, 128,
                       unsigned_opts=(True, True, True, True), pieces=(1,) * 40))
    write(t, "unsigned_sha1", chunked_seed(UNSIGNED_TRAILER, SHA1, 90, 30, length_mode=0))
    write(t, "unsigned_no_checksum", chunked_seed(UNSIGNED_TRAILER, NO_CHECKSUM, 50, 50))
    write(t, "unsigned_large_chunk", chunked_seed(UNSIGNED_TRAILER, CRC32C, 2048, 700,
                                                  max_chunk=1, pieces=(300,)))


# ---- response_head_fuzz ---------------------------------------------------------------------


def head_seed(wire, limit_mode=2, limit=None, skip=False, reads=()):
    f = Fdp()
    f.int_in_range(0, 3, limit_mode)
    if limit_mode == 0:
        f.int_in_range(0, 256, limit)
    elif limit_mode == 1:
        f.int_in_range(256, 8192, limit)
    f.boolean(skip)
    f.int_in_range(0, 8, len(reads))
    for r in reads:
        f.int_in_range(1, 4096, r)
    f.remaining(wire.encode() if isinstance(wire, str) else wire)
    return f.bytes()


def response_head():
    t = "response_head_fuzz"
    minio_get = (
        "HTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\nContent-Length: 5\r\n"
        "Content-Type: binary/octet-stream\r\nETag: \"5d41402abc4b2a76b9719d911017c592\"\r\n"
        "Last-Modified: Mon, 23 Nov 2026 10:00:00 GMT\r\nServer: MinIO\r\n"
        "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\nVary: Origin\r\n"
        "Vary: Accept-Encoding\r\nX-Amz-Id-2: abc\r\nX-Amz-Request-Id: 17A9B\r\n"
        "X-Content-Type-Options: nosniff\r\nX-Xss-Protection: 1; mode=block\r\n"
        "x-amz-meta-a: 1\r\nx-amz-meta-a: 2\r\nDate: Mon, 23 Nov 2026 10:00:01 GMT\r\n\r\nhello")
    write(t, "minio_get", head_seed(minio_get, reads=(100, 4096)))
    write(t, "minio_get_byte_reads", head_seed(minio_get, reads=(1,) * 8))
    write(t, "head_skip", head_seed(
        "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nETag: \"x\"\r\n\r\n", skip=True))
    write(t, "error_404", head_seed(
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/xml\r\nContent-Length: 120\r\n"
        "Connection: keep-alive\r\n\r\n<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>"
        "<Code>NoSuchKey</Code></Error>"))
    write(t, "chunked", head_seed(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/xml\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n"))
    write(t, "te_gzip_chunked", head_seed(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"))
    write(t, "te_and_length", head_seed(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"))
    write(t, "double_length", head_seed(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"))
    write(t, "bad_length", head_seed("HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n"))
    write(t, "http10_eof", head_seed("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close"))
    write(t, "http10_keepalive", head_seed(
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"))
    write(t, "connection_close", head_seed(
        "HTTP/1.1 503 Slow Down\r\nConnection: close, x-private\r\nRetry-After: 1\r\n"
        "Content-Length: 0\r\n\r\n"))
    write(t, "no_content", head_seed("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"))
    write(t, "not_modified", head_seed("HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n"))
    write(t, "continue_then_ok", head_seed(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    write(t, "empty_reason", head_seed("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"))
    write(t, "no_reason", head_seed("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n"))
    write(t, "obs_fold", head_seed(
        "HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\n\tc\r\nContent-Length: 0\r\n\r\n"))
    write(t, "empty_value_and_blanks", head_seed(
        "HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Blanks: \t v \t \r\nContent-Length: 0\r\n\r\n"))
    write(t, "upgrade", head_seed(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n"))
    write(t, "header_limit_small", head_seed(minio_get, limit_mode=0, limit=200))
    write(t, "header_limit_edge", head_seed(
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", limit_mode=0, limit=40))
    write(t, "bare_lf", head_seed("HTTP/1.1 200 OK\nContent-Length: 0\n\n"))
    write(t, "truncated", head_seed("HTTP/1.1 200 OK\r\nContent-Len"))
    write(t, "bad_version", head_seed("HTTP/2.0 200 OK\r\n\r\n"))
    write(t, "status_999", head_seed("HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n"))
    # Findings (see the reports in tests/fuzz/README.md):
    # a header whose status line arrives in an earlier read than its end (read_header's
    # header_bytes and response_head's views miss what put() consumed early);
    write(t, "repro_status_line_in_first_read", head_seed(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"e\"\r\nx-amz-meta-a: 1\r\n\r\nhello",
        reads=(20,)))
    # a field value over 65533 bytes, which Beast's basic_fields (the re-parse) throws on.
    write(t, "repro_field_over_65533_bytes", head_seed(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Big: " + "a" * 65534 +
        "\r\n\r\n0\r\n\r\n"))


# ---- config_loader_fuzz ---------------------------------------------------------------------

SECRET_DIR = "/tmp/s3ha-config-fuzz/"
INLINE_SECRET = "Jd3Vq8Ny6RbK1tHs9MwC4xGe"


def config_loader():
    t = "config_loader_fuzz"
    write(t, "all_secret_forms", f"""server:
  listen: "127.0.0.1:9000"
  workers: 2
  region: us-east-1
  max_header_size: 64KiB
  header_read_timeout: 10s
admin:
  listen: "127.0.0.1:9001"
  token_file: {SECRET_DIR}token.txt
credentials:
  - access_key: AKCLIENT
    secret_key: {INLINE_SECRET}
  - access_key: AKFROMENV
    secret_key_env: S3HA_CLIENT_SECRET
backends:
  - name: minio-a
    endpoint: http://127.0.0.1:9100
    access_key: minioadmin
    secret_key_file: {SECRET_DIR}secret.txt
    aws_chunked: decode
    health_check:
      type: s3
      interval: 5s
      timeout: 2s
  - name: minio-b
    endpoint: https://[::1]:9443
    access_key: minioadmin
    secret_key_env: S3HA_BACKEND_SECRET
    priority: 2
    tls:
      ca_file: {SECRET_DIR}ca.pem
      verify: true
      server_name: minio.local
routing:
  policy: failover
  retries:
    max_attempts: 3
    retry_statuses: [502, 503, 504]
logging:
  level: info
  format: json
""")
    write(t, "minimal", f"""credentials:
  - access_key: AK
    secret_key: {INLINE_SECRET}
backends:
  - name: a
    endpoint: http://127.0.0.1:9100
    access_key: minioadmin
    secret_key_env: S3HA_X
""")
    write(t, "secret_errors", f"""admin:
  token_env: UNSET_TOKEN
credentials:
  - access_key: AK1
    secret_key: {INLINE_SECRET}
    secret_key_env: S3HA_A
  - access_key: AK2
    secret_key_file: {SECRET_DIR}empty.txt
  - access_key: AK3
    secret_key_env: S3HA_EMPTY
  - access_key: AK4
    secret_key_file: {SECRET_DIR}missing.txt
  - access_key: AK5
    secret_key: [{INLINE_SECRET}]
  - access_key: AK6
    secret_key: ""
backends:
  - name: a
    endpoint: ftp://127.0.0.1:9100/path?q
    access_key: minioadmin
    secret_key: {INLINE_SECRET}
    secret_key_file: {SECRET_DIR}secret.txt
""")
    write(t, "misplaced_secret", f"""server:
  secret_key: {INLINE_SECRET}
  listn: 0.0.0.0:9000
  token: {INLINE_SECRET}
credentials:
  - access_key: AK
    secret_key: {INLINE_SECRET}
    extra: {{secret_key: {INLINE_SECRET}}}
backends: {INLINE_SECRET}
""")
    write(t, "types_and_ranges", """server:
  workers: -1
  max_connections: 0
  max_header_size: 10MB
  header_read_timeout: 5
  idle_timeout: 0s
  allow_anonymous: yes
  virtual_host_domains: [S3.Example.COM, "", 7]
  tls: {cert_file: "", key_file: x}
credentials: []
backends:
  - name: "bad name!"
    endpoint: "http://[::1"
    access_key: ""
    weight: 0
    priority: 1001
    health_check: {type: s3, interval: 1s, timeout: 2s, jitter: 1s, rise: 0, expected_statuses: [99, 600]}
  - name: "bad name!"
routing: {policy: weighted, failback: sometimes, passive_failure_statuses: [404]}
logging: {level: loud}
shutdown: {drain_timeout: 1d}
""")
    write(t, "yaml_anchors_and_tags", f"""x-common: &common
  access_key: minioadmin
  secret_key: {INLINE_SECRET}
credentials:
  - !!map {{access_key: AK, secret_key: !!str {INLINE_SECRET}}}
backends:
  - <<: *common
    name: a
    endpoint: http://localhost
  - *common
""")
    write(t, "yaml_syntax_error", f"""credentials:
  - access_key: AK
    secret_key: "{INLINE_SECRET}
  backends: [
""")
    write(t, "yaml_alias_cycle", "x: &a\n  k: *a\n  access_key: *a\ncredentials: [*a, *a]\n"
          "backends:\n  - *a\n  - name: *a\n    endpoint: *a\nserver: *a\nrouting: *a\n")
    write(t, "not_a_map", "- just\n- a list\n")
    write(t, "empty", "")
    write(t, "document_markers", "%YAML 1.2\n---\ncredentials: ~\n...\n---\nbackends: ~\n")
    example = (Path(__file__).resolve().parents[2] / "config" / "s3ha.example.yaml").read_text()
    write(t, "example", example)


# ---- multipart_fuzz -------------------------------------------------------------------------

IDS, TRANSLATE, XML = 0, 1, 2


def multipart():
    t = "multipart_fuzz"

    def ids(backend, original, changes):
        f = Fdp().int_in_range(0, 2, IDS).int_in_range(0, 2, backend)
        f.random_length_string(original)
        f.int_in_range(1, 3, len(changes))
        for pos, byte, kind in changes:
            f.int_in_range(0, 255, pos).u8(byte).int_in_range(0, 2, kind)
        return f.bytes()

    write(t, "ids_minio", ids(0, b"YjJmNTk5ZjUtNjM3OS00ZTlmLWE4NWUtMjEwNDc5MjY2ZmQ5", [(10, 1, 0)]))
    write(t, "ids_binary", ids(2, bytes(range(256)), [(0, 0, 2), (3, 46, 1)]))
    write(t, "ids_empty", ids(1, b"", [(0, 1, 0)]))
    write(t, "ids_max", ids(1, b"x" * 1024, [(200, 7, 0)]))
    write(t, "ids_too_long", ids(1, b"x" * 1025, [(0, 1, 0)]))

    def translate(originals, template, part=1):
        f = Fdp().int_in_range(0, 2, TRANSLATE).int_in_range(0, 2, len(originals))
        for backend, original in originals:
            f.int_in_range(0, 2, backend)
            f.random_length_string(original)
        if originals:
            f.int_in_range(1, 10000, part)
        f.remaining(template)
        return f.bytes()

    write(t, "translate_upload_part",
          translate([(1, b"abc+/=x y")], b"partNumber=2&uploadId=@0&x-id=UploadPart", 2))
    write(t, "translate_encoded", translate([(0, b"orig")], b"upload%49d=%0"))
    write(t, "translate_marker",
          translate([(2, b"m/1")], b"uploads&key-marker=k&upload-id-marker=@0&max-uploads=2"))
    write(t, "translate_two_backends",
          translate([(0, b"x"), (1, b"y")], b"uploadId=@0&upload-id-marker=@1"))
    write(t, "translate_twice", translate([(0, b"x")], b"uploadId=@0&uploadId=@0"))
    write(t, "translate_not_issued", translate([], b"uploadId=s3ha1.YQ.b3JpZw.AAAAAAAAAAAAAAAAAAAAAA"))
    write(t, "translate_no_value", translate([], b"uploadId&upload-id-marker"))
    write(t, "translate_bad_escape", translate([(0, b"x")], b"uploadId=%zz&uploadId=@0"))
    write(t, "translate_empty_marker", translate([], b"uploads&upload-id-marker="))

    def xml(backend, require, body):
        f = Fdp().int_in_range(0, 2, XML).int_in_range(0, 2, backend).boolean(require)
        f.remaining(body.encode())
        return f.bytes()

    ns = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
    write(t, "xml_create", xml(0, True,
          f'<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult {ns}>'
          "<Bucket>bk</Bucket><Key>a &amp; b &lt;c&gt; &#233;t&#xE9;</Key>"
          "<UploadId>orig+/id==</UploadId></InitiateMultipartUploadResult>"))
    write(t, "xml_create_no_id", xml(1, True,
          f"<InitiateMultipartUploadResult {ns}><UploadId></UploadId>"
          "</InitiateMultipartUploadResult>"))
    write(t, "xml_list_uploads", xml(1, False,
          f"<ListMultipartUploadsResult {ns}><Bucket>bk</Bucket><KeyMarker>k0</KeyMarker>"
          "<UploadIdMarker>m0</UploadIdMarker><NextKeyMarker>k2</NextKeyMarker>"
          "<NextUploadIdMarker>u2</NextUploadIdMarker><MaxUploads>2</MaxUploads>"
          "<IsTruncated>true</IsTruncated><Upload><Key>k1</Key><UploadId>u1</UploadId></Upload>"
          "<Upload><Key>k2</Key><UploadId>u2</UploadId></Upload></ListMultipartUploadsResult>"))
    write(t, "xml_list_parts_prefixed", xml(2, False,
          '<s3:ListPartsResult xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">'
          "<s3:Bucket>bk</s3:Bucket><s3:Key>k</s3:Key><s3:UploadId>p1</s3:UploadId>"
          "<s3:Part><s3:PartNumber>1</s3:PartNumber><s3:ETag>&quot;e1&quot;</s3:ETag></s3:Part>"
          "</s3:ListPartsResult>"))
    write(t, "xml_cdata_mixed", xml(0, True,
          "<R><UploadId><![CDATA[a<b]]></UploadId><UploadId>x<y/>z</UploadId>"
          "<UploadId><UploadId>nested</UploadId></UploadId></R>"))
    write(t, "xml_too_long", xml(0, False, "<R><UploadId>" + "y" * 1025 + "</UploadId></R>"))
    write(t, "xml_doctype", xml(0, False,
          '<!DOCTYPE R [<!ENTITY e "boom">]><R><UploadId>&e;</UploadId></R>'))
    write(t, "xml_not_well_formed", xml(0, False, "<R><UploadId>u</R>"))


if __name__ == "__main__":
    aws_chunked()
    response_head()
    config_loader()
    multipart()
    for d in sorted(ROOT.iterdir()):
        print(f"{d.name}: {sum(1 for _ in d.iterdir())} files")
