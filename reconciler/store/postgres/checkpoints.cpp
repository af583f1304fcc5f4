#include "store/postgres/checkpoints.hpp"

namespace reconciler::store::postgres {

std::optional<unix_seconds> postgres_checkpoints::checkpoint(const std::string& stream) {
    const auto r = s_.run("SELECT covered_until FROM @schema@.recon_checkpoints WHERE stream = $1", params().add(stream));
    if (r.rows() == 0) return std::nullopt;
    return r.int64(0, 0);
}

void postgres_checkpoints::advance_checkpoint(const std::string& stream, unix_seconds chunk_start,
                                              unix_seconds chunk_end, std::int64_t run_id) {
    // One statement, so the rule is checked against the row it updates: the
    // first window sets it; later it moves only when [start, end) touches it
    // (start <= current) and reaches past it (end > current).
    s_.run("INSERT INTO @schema@.recon_checkpoints AS c(stream, covered_until, run_id, updated_at)"
           " VALUES ($1, $3, $4, $5) ON CONFLICT (stream) DO UPDATE SET covered_until = excluded.covered_until,"
           " run_id = excluded.run_id, updated_at = excluded.updated_at"
           " WHERE $2 <= c.covered_until AND excluded.covered_until > c.covered_until",
           params()
               .add(stream)
               .add(static_cast<std::int64_t>(chunk_start))
               .add(static_cast<std::int64_t>(chunk_end))
               .add(run_id)
               .add(format_rfc3339(now_unix())));
}

}  // namespace reconciler::store::postgres
