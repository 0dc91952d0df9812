#include "s3ha/sigv4/signing_key_cache.hpp"

#include "s3ha/sigv4/signing_key.hpp"

namespace s3ha::sigv4 {

signing_key_cache::signing_key_cache(std::size_t max_entries)
    : max_entries_(max_entries == 0 ? 1 : max_entries) {
    scratch_.reserve(96);
}

signing_key_cache::entry& signing_key_cache::find(std::string_view access_key,
                                                  std::string_view secret_key,
                                                  std::string_view date, std::string_view region,
                                                  std::string_view service) {
    // '\n' cannot occur in any of the parts as they arrive in a header or query (they were
    // split out of one), so it separates them unambiguously.
    scratch_.clear();
    scratch_.append(access_key).push_back('\n');
    scratch_.append(date).push_back('\n');
    scratch_.append(region).push_back('\n');
    scratch_.append(service);

    auto it = entries_.find(scratch_);
    if (it != entries_.end()) {
        if (it->second.secret_key != secret_key) {
            it->second = entry(secret_key, derive_signing_key(secret_key, date, region, service));
        }
        return it->second;
    }
    if (entries_.size() >= max_entries_) entries_.clear();
    auto [ins, ok] = entries_.try_emplace(scratch_, secret_key,
                                          derive_signing_key(secret_key, date, region, service));
    (void)ok;
    return ins->second;
}

} // namespace s3ha::sigv4
