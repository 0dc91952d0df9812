// Fuzz target: the YAML configuration loader (config/loader.hpp) on arbitrary text.
//
// Known secrets are offered in all three forms: in the environment (every variable the text
// names resolves to k_env_secret, but names containing UNSET, which are unset, and S3HA_EMPTY,
// which is empty), in files under k_secret_dir (secret_key_file / token_file), and inline in the
// seed corpus (k_inline_secret).
//
// Oracles:
//  1. load_config_string never throws (its contract documents no exception: every problem is
//     reported) and never crashes.
//  2. No secret value appears in any problem's message or hint, nor in format_problem's line.
//     A secret counts only where it is a secret: the text may also use the same characters
//     elsewhere (an access key, a key name, an unknown value), and then an error quoting that
//     place is no leak; such a secret is not checked for that input. The environment and file
//     secrets are never in the text unless the input puts them there.
//  3. A configuration that loads has at least one credential and one backend, and every secret
//     and access key resolved non-empty (README: an empty value is an error).
// Inputs naming a file outside k_secret_dir are skipped (a path such as /dev/zero would make the
// loader read forever: the loader trusts its operator's paths, and so must this target).
#include "fuzz_check.hpp"

#include "s3ha/config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace {

// 24 random-looking characters each: none can appear in a message by chance.
constexpr std::string_view k_env_secret = "q7Zr2LxW9vKd4TbN8sYe3HjM";
constexpr std::string_view k_file_secret = "Fp6Wc1Rk8ZxQ3nVt5LbJ7yGd";
constexpr std::string_view k_token_file_secret = "uN4hB9mT2cXs7QwE5rLk8PzA";
constexpr std::string_view k_inline_secret = "Jd3Vq8Ny6RbK1tHs9MwC4xGe";
constexpr std::array<std::string_view, 4> k_secrets{k_env_secret, k_file_secret,
                                                    k_token_file_secret, k_inline_secret};

// The seed corpus names these files: secret.txt, token.txt, empty.txt (only newlines), and
// ca.pem (any readable file will do for the TLS paths).
constexpr std::string_view k_secret_dir = "/tmp/s3ha-config-fuzz/";

void write_file(const std::string& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

void make_secret_files() {
    std::filesystem::create_directories(std::string(k_secret_dir));
    const std::string dir(k_secret_dir);
    write_file(dir + "secret.txt", std::string(k_file_secret) + "\n");
    write_file(dir + "token.txt", std::string(k_token_file_secret) + "\r\n");
    write_file(dir + "empty.txt", "\n\n");
    write_file(dir + "ca.pem", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
}

std::optional<std::string> fake_env(const std::string& name) {
    if (name.find("UNSET") != std::string::npos) return std::nullopt;
    if (name == "S3HA_EMPTY") return std::string();
    return std::string(k_env_secret);
}

bool is_secret_key(std::string_view key) {
    return key == "secret_key" || key == "token";
}

// What the document says around the secrets, found by walking it the way the loader reads it.
struct scan {
    bool parsed = false;
    bool unsafe_path = false;
    bool too_big = false;
    std::array<bool, k_secrets.size()> elsewhere{}; // the secret text is in a non-secret place
    std::size_t visited = 0;

    void text(std::string_view s, bool secret_place) {
        if (!secret_place) {
            for (std::size_t i = 0; i < k_secrets.size(); ++i) {
                if (s.find(k_secrets[i]) != std::string_view::npos) elsewhere[i] = true;
            }
        }
        if (s.find('/') == std::string_view::npos) return; // a name in the working directory
        const bool url = s.starts_with("http://") || s.starts_with("https://");
        const bool ours = s.starts_with(k_secret_dir) && s.find("..") == std::string_view::npos;
        if (!url && !ours) unsafe_path = true;
    }

    void node(const YAML::Node& n, bool secret_place, unsigned depth = 0) {
        // Aliases share nodes: a few lines can describe an exponential tree, or a cycle (an
        // alias inside its own anchor). The loader only walks what its schema names (a few
        // levels); this walk stops early instead.
        if (++visited > 20000 || depth > 64) {
            too_big = true;
            return;
        }
        if (n.IsScalar()) {
            text(n.Scalar(), secret_place);
        } else if (n.IsSequence()) {
            for (const auto& item : n)
                node(item, false, depth + 1);
        } else if (n.IsMap()) {
            for (const auto& kv : n) {
                node(kv.first, false, depth + 1);
                const bool secret = kv.first.IsScalar() && is_secret_key(kv.first.Scalar());
                node(kv.second, secret, depth + 1);
            }
        }
    }
};

scan scan_text(const std::string& yaml) {
    scan s;
    try {
        const YAML::Node root = YAML::Load(yaml);
        s.parsed = true;
        s.node(root, false);
    } catch (const std::exception&) { // the loader reports the same syntax error
    }
    if (!s.parsed || s.too_big) {
        // Not walked (a syntax error, where the loader stops too, or a huge or cyclic alias
        // graph): a secret typed into the text counts as elsewhere, and a file name is safe
        // only without any '/' (or escape that could make one).
        for (std::size_t i = 0; i < k_secrets.size(); ++i) {
            s.elsewhere[i] = yaml.find(k_secrets[i]) != std::string::npos;
        }
        s.unsafe_path = s.too_big && yaml.find_first_of("/\\") != std::string::npos;
    }
    return s;
}

void check_no_secret(const scan& s, std::string_view what) {
    for (std::size_t i = 0; i < k_secrets.size(); ++i) {
        if (s.elsewhere[i]) continue;
        S3HA_FUZZ_CHECK(what.find(k_secrets[i]) == std::string_view::npos,
                        "secret " + std::string(k_secrets[i]) + " in: " + std::string(what));
    }
}

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    make_secret_files();
    return 0;
}

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string yaml(reinterpret_cast<const char*>(data), size);
    const scan s = scan_text(yaml);
    if (s.unsafe_path) return -1; // not added to the corpus

    s3ha::config_load_result r;
    try {
        r = s3ha::load_config_string(yaml, fake_env);
    } catch (const std::exception& e) {
        S3HA_FUZZ_CHECK(false, std::string("load_config_string threw: ") + e.what());
    } catch (...) {
        S3HA_FUZZ_CHECK(false, "load_config_string threw a non-std exception");
    }

    for (const auto& p : r.problems) {
        check_no_secret(s, p.message);
        check_no_secret(s, p.hint);
        check_no_secret(s, s3ha::format_problem("s3ha.yaml", p));
    }
    S3HA_FUZZ_CHECK(r.ok() == (r.cfg != nullptr), "a result with both problems and a config");
    if (r.cfg) {
        const auto& c = *r.cfg;
        S3HA_FUZZ_CHECK(!c.credentials.empty() && !c.backends.empty(), "loaded without keys");
        for (const auto& k : c.credentials) {
            S3HA_FUZZ_CHECK(!k.access_key.empty() && !k.secret_key.empty(), "empty credential");
        }
        for (const auto& b : c.backends) {
            S3HA_FUZZ_CHECK(!b.name.empty() && !b.access_key.empty() && !b.secret_key.empty(),
                            "empty backend name or key");
        }
    }
    return 0;
}
