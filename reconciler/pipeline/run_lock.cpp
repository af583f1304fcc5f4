#include "pipeline/run_lock.hpp"

#include "core/timeutil.hpp"

#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace reconciler {

std::filesystem::path file_run_lock::path_for(const std::filesystem::path& database) {
    return database.string() + ".reconciler.lock";
}

file_run_lock::file_run_lock(const std::filesystem::path& database) {
    const auto path = path_for(database);
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd_ < 0)
        throw std::runtime_error("create lock file " + path.string() + ": " + std::strerror(errno) +
                                 " (the database's directory must be writable)");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        char buf[256] = {};
        const auto n = ::pread(fd_, buf, sizeof buf - 1, 0);
        ::close(fd_);
        fd_ = -1;
        if (err != EWOULDBLOCK) throw std::runtime_error("lock " + path.string() + ": " + std::strerror(err));
        std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "unknown holder";
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
        throw run_locked_error("another run holds the lock on " + database.string() + " (" + holder + ")");
    }
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    const std::string who = "pid " + std::to_string(::getpid()) + " on " + host + " since " + format_rfc3339(now_unix()) + "\n";
    if (::ftruncate(fd_, 0) == 0) {
        [[maybe_unused]] auto w = ::pwrite(fd_, who.data(), who.size(), 0);
    }
}

file_run_lock::~file_run_lock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace reconciler
