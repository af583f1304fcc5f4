// PostgreSQL: the newest state of every subscription of a window, in a
// temporary table of the store's session (not WAL-logged, visible to no one
// else, gone with the session if the run is killed). Kept for the session
// and emptied for each window, so its prepared statements stay valid.
// Writes are buffered and flushed a few thousand rows per statement.
#pragma once

#include "core/diff.hpp"
#include "store/postgres/pg_session.hpp"

#include <map>
#include <optional>
#include <string>

namespace reconciler::store::postgres {

class subscription_scratch final : public subscription_state_table {
public:
    explicit subscription_scratch(session& s);
    ~subscription_scratch() override;

    std::optional<row> find(const std::string& id) override;
    void prefetch(const std::vector<std::string>& ids) override;
    void put(const std::string& id, const row& r) override;
    std::vector<std::string> ambiguous_ids() override;
    void each(const std::function<void(const row&)>& visit) override;
    void drain_by_customer(std::size_t customers,
                           const std::function<void(std::vector<subscription_state>&&)>& chunk) override;

private:
    static constexpr std::size_t flush_every = 4096;

    static row read_row(const result& r, int i);
    void flush();

    session& s_;
    std::map<std::string, row> pending_;
    // The last prefetch's answers (none: no such row), until put() or the next prefetch.
    std::map<std::string, std::optional<row>> prefetched_;
};

}  // namespace reconciler::store::postgres
