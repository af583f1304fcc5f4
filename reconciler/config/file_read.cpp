#include "config/file_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace reconciler::config_detail {

namespace fs = std::filesystem;

// POSIX rather than iostreams so that failures carry errno, and fstat() on
// the open descriptor checks the very file that is read.
file_read read_file_bounded(const fs::path& path, std::size_t max_bytes) {
    file_read r;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        r.error = errno;
        return r;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        r.error = errno;
        ::close(fd);
        return r;
    }
    r.mode = st.st_mode;
    std::array<char, 8192> buf{};
    for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            r.error = errno;
            break;
        }
        if (n == 0) break;
        if (r.data.size() + static_cast<std::size_t>(n) > max_bytes) {
            r.too_large = true;
            break;
        }
        r.data.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    return r;
}

}  // namespace reconciler::config_detail
