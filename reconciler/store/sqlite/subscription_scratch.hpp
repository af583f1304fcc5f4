// SQLite: the newest state of every subscription of a window, on disk: a
// database file of its own beside the app's, attached to the store's
// connection, with no journal and no fsync (it is thrown away with the run,
// and a killed run's leftover is dropped by the next). Writes are buffered and
// flushed in one transaction per few thousand rows; the app's database is
// never locked by it.
#pragma once

#include "core/diff.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <map>
#include <optional>
#include <string>

namespace reconciler::store::sqlite {

class subscription_scratch final : public subscription_state_table {
public:
    subscription_scratch(SQLite::Database& db, std::string file);
    ~subscription_scratch() override;

    std::optional<row> find(const std::string& id) override;
    void put(const std::string& id, const row& r) override;
    std::vector<std::string> ambiguous_ids() override;
    void each(const std::function<void(const row&)>& visit) override;
    void drain_by_customer(std::size_t customers,
                           const std::function<void(std::vector<subscription_state>&&)>& chunk) override;

private:
    static constexpr std::size_t flush_every = 4096;

    static row read_row(SQLite::Statement& q);
    void flush();

    SQLite::Database& db_;
    std::string file_;
    std::optional<SQLite::Statement> find_;
    std::map<std::string, row> pending_;
};

}  // namespace reconciler::store::sqlite
