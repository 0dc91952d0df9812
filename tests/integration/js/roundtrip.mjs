// Round trip of one object through a JS S3 client, for the integration tests.
// usage: node roundtrip.mjs <aws-sdk|minio> <bucket> <key> <size-bytes> [buffer|stream]
// env:   S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION
// Prints one JSON line {client, mode, size, put_sha256, get_sha256, get_size, etag}; exits 1
// with {error, code, status} on an S3 error. "stream" makes @aws-sdk/client-s3 send aws-chunked.
import crypto from "node:crypto";
import { Readable } from "node:stream";

const [client, bucket, key, sizeArg, mode = "buffer"] = process.argv.slice(2);
const size = Number(sizeArg);
const endpoint = new URL(process.env.S3_ENDPOINT);
const accessKey = process.env.S3_ACCESS_KEY;
const secretKey = process.env.S3_SECRET_KEY;
const region = process.env.S3_REGION || "us-east-1";
const data = crypto.randomBytes(size);
const sha = (b) => crypto.createHash("sha256").update(b).digest("hex");

async function streamToBuffer(s) {
    const parts = [];
    for await (const c of s) parts.push(c);
    return Buffer.concat(parts);
}

async function awsSdk() {
    const { S3Client, PutObjectCommand, GetObjectCommand } = await import("@aws-sdk/client-s3");
    const s3 = new S3Client({
        region, endpoint: endpoint.origin, forcePathStyle: true, maxAttempts: 1,
        credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    });
    const body = mode === "stream" ? Readable.from([data]) : data;
    const put = await s3.send(new PutObjectCommand({
        Bucket: bucket, Key: key, Body: body, ContentLength: size,
        ContentType: "application/octet-stream",
    }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { etag: put.ETag, body: Buffer.from(await got.Body.transformToByteArray()) };
}

async function minio() {
    const Minio = await import("minio");
    const mc = new Minio.Client({
        endPoint: endpoint.hostname, port: Number(endpoint.port), useSSL: endpoint.protocol === "https:",
        accessKey, secretKey, region, pathStyle: true,
    });
    const body = mode === "stream" ? Readable.from([data]) : data;
    const put = await mc.putObject(bucket, key, body, size, { "Content-Type": "application/octet-stream" });
    return { etag: put.etag, body: await streamToBuffer(await mc.getObject(bucket, key)) };
}

try {
    const r = client === "minio" ? await minio() : await awsSdk();
    console.log(JSON.stringify({
        client, mode, size, put_sha256: sha(data), get_sha256: sha(r.body), get_size: r.body.length,
        etag: r.etag,
    }));
} catch (e) {
    console.log(JSON.stringify({
        error: e.name || String(e), code: e.Code || e.code || null,
        status: e.$metadata?.httpStatusCode ?? e.statusCode ?? null, message: e.message,
    }));
    process.exit(1);
}
