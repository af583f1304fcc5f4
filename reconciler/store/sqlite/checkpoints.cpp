#include "store/sqlite/checkpoints.hpp"

#include "store/sqlite/sql.hpp"

#include <SQLiteCpp/Transaction.h>

namespace reconciler::store::sqlite {

std::optional<unix_seconds> sqlite_checkpoints::checkpoint(const std::string& stream) {
    SQLite::Statement q(c_.db(), "SELECT covered_until FROM recon_checkpoints WHERE stream = ?");
    q.bind(1, stream);
    if (!q.executeStep()) return std::nullopt;
    return q.getColumn(0).getInt64();
}

void sqlite_checkpoints::advance_checkpoint(const std::string& stream, unix_seconds chunk_start,
                                            unix_seconds chunk_end, std::int64_t run_id) {
    SQLite::Transaction tx(c_.db(), SQLite::TransactionBehavior::IMMEDIATE);
    const auto current = checkpoint(stream);
    if (current && (chunk_start > *current || chunk_end <= *current)) return;  // a gap, or nothing new
    SQLite::Statement q(c_.db(), "INSERT INTO recon_checkpoints(stream, covered_until, run_id, updated_at)"
                                 " VALUES (?,?,?,?) ON CONFLICT(stream) DO UPDATE SET covered_until = excluded.covered_until,"
                                 " run_id = excluded.run_id, updated_at = excluded.updated_at");
    q.bind(1, stream);
    q.bind(2, static_cast<std::int64_t>(chunk_end));
    q.bind(3, static_cast<std::int64_t>(run_id));
    q.bind(4, now_text());
    q.exec();
    tx.commit();
}

}  // namespace reconciler::store::sqlite
