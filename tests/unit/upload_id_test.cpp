#include "s3ha/proxy/upload_id.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/crypto/encoding.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace s3ha;
using namespace s3ha::proxy;

namespace {

backend_config make(std::string name, std::string secret) {
    backend_config b;
    b.name = std::move(name);
    b.secret_key = std::move(secret);
    return b;
}

const std::vector<backend_config> k_backends = {make("minio-a", "secret-a"),
                                                make("minio-b", "secret-b")};

// A typical MinIO upload id (base64 of a UUID pair): carries '+', '/' and '='.
constexpr std::string_view k_minio_id =
    "ZjU2ZDE5YzAtNWQ0Ny00YzdiLWE1ZGItMDU3NWRkYzM3ZDQ5LjAwNzU0ZDJh+/x==";

std::vector<std::string> split_dots(const std::string& s) {
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (true) {
        auto dot = s.find('.', pos);
        parts.push_back(s.substr(pos, dot - pos));
        if (dot == std::string::npos) break;
        pos = dot + 1;
    }
    return parts;
}

} // namespace

TEST_CASE("upload id round trip names the backend and the original id", "[unit][upload_id]") {
    for (std::size_t i = 0; i < k_backends.size(); ++i) {
        auto id = encode_upload_id(k_backends[i], k_minio_id);
        REQUIRE(id);
        CHECK(id->starts_with("s3ha1."));
        CHECK(id->find(k_minio_id) == std::string::npos); // the backend's id is not shown as is
        // Only URI-unreserved characters: safe in a query string without encoding.
        CHECK(id->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_.") == std::string::npos);
        auto d = decode_upload_id(*id, k_backends);
        REQUIRE(d);
        CHECK(d->backend_index == i);
        CHECK(d->original == k_minio_id);
    }
    // Deterministic: the same upload always gets the same id (any replica issues the same).
    CHECK(*encode_upload_id(k_backends[0], "x") == *encode_upload_id(k_backends[0], "x"));
    CHECK(*encode_upload_id(k_backends[0], "x") != *encode_upload_id(k_backends[1], "x"));
}

TEST_CASE("upload id: binary and maximal originals round trip", "[unit][upload_id]") {
    std::string binary;
    for (int i = 0; i < 256; ++i)
        binary.push_back(static_cast<char>(i));
    const std::string longest(k_max_original_upload_id, 'q');
    for (const auto& original : {binary, longest, std::string("1")}) {
        auto id = encode_upload_id(k_backends[1], original);
        REQUIRE(id);
        CHECK(id->size() <= k_max_upload_id);
        auto d = decode_upload_id(*id, k_backends);
        REQUIRE(d);
        CHECK(d->original == original);
    }
    CHECK(encode_upload_id(k_backends[0], "").error() == errc::invalid_argument);
    CHECK(encode_upload_id(k_backends[0], longest + "q").error() == errc::invalid_argument);
}

TEST_CASE("upload id: tampered, foreign or garbage ids are NoSuchUpload", "[unit][upload_id]") {
    const std::string id = *encode_upload_id(k_backends[0], k_minio_id);
    const auto parts = split_dots(id);
    REQUIRE(parts.size() == 4);
    auto join = [](const std::vector<std::string>& p) {
        return p[0] + "." + p[1] + "." + p[2] + "." + p[3];
    };
    auto rejected = [](std::string_view s) {
        auto d = decode_upload_id(s, k_backends);
        return !d && d.error() == errc::no_such_upload;
    };
    CHECK(join(parts) == id);

    SECTION("a flipped MAC bit") {
        auto p = parts;
        auto mac = *crypto::base64url_decode(p[3]);
        mac[0] = static_cast<char>(mac[0] ^ 1);
        p[3] = crypto::base64url_encode(mac);
        CHECK(rejected(join(p)));
    }
    SECTION("a truncated or missing MAC") {
        auto p = parts;
        p[3] = crypto::base64url_encode(crypto::base64url_decode(parts[3])->substr(0, 15));
        CHECK(rejected(join(p)));
        p[3] = "";
        CHECK(rejected(join(p)));
    }
    SECTION("the backend name changed: the id cannot be moved to another backend") {
        auto p = parts;
        p[1] = crypto::base64url_encode("minio-b");
        CHECK(rejected(join(p)));
    }
    SECTION("an unknown backend name") {
        auto p = parts;
        p[1] = crypto::base64url_encode("minio-z");
        CHECK(rejected(join(p)));
    }
    SECTION("the original id changed") {
        auto p = parts;
        p[2] = crypto::base64url_encode(std::string(k_minio_id) + "x");
        CHECK(rejected(join(p)));
    }
    SECTION("the same backend name with another secret (rotated key)") {
        const std::vector<backend_config> rotated = {make("minio-a", "secret-a2"),
                                                     make("minio-b", "secret-b")};
        auto d = decode_upload_id(id, rotated);
        CHECK((!d && d.error() == errc::no_such_upload));
    }
    SECTION("garbage and near misses") {
        for (std::string_view s : std::initializer_list<std::string_view>{
                 "", "s3ha1.", "s3ha1...", "s3ha2" /* other version */, "2~abc", k_minio_id,
                 "VXBsb2FkSWQ", "s3ha1.bWluaW8tYQ.YQ", "s3ha1.bWluaW8tYQ.YQ.AAAA.AAAA",
                 "s3ha1.bWluaW8tYQ==.YQ.AAAAAAAAAAAAAAAAAAAAAA",
                 "s3ha1.bWluaW8tYQ.YQ.AAAA$AAAAAAAA"}) {
            CHECK(rejected(s));
        }
        CHECK(rejected(std::string("s3ha2") + id.substr(5)));
        CHECK(rejected(id + "A"));
        CHECK(rejected(" " + id));
    }
    SECTION("very long ids are refused before any work") {
        CHECK(rejected(id + std::string(k_max_upload_id, 'A')));
        CHECK(rejected(std::string(1 << 20, 'A')));
        CHECK(rejected("s3ha1." + std::string(1 << 20, '.')));
    }
    SECTION("no backends configured") {
        auto d = decode_upload_id(id, {});
        CHECK((!d && d.error() == errc::no_such_upload));
    }
}
