// bench-rusage: runs a command and reports what it cost, for bench/run.sh.
//
//   bench-rusage OUT.json -- COMMAND [ARGS...]
//
// Waits for the child with wait4(), so the figures are the child's own (not
// the script's): wall seconds, user and system CPU seconds, peak RSS (KiB,
// ru_maxrss) and the exit status, written as one JSON object to OUT.json.
// Exits with the child's status (128 + signal when killed). SIGTERM and
// SIGINT are forwarded to the child. A benchmark
// helper, not a test: it asserts nothing.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace {
volatile sig_atomic_t child = 0;
// SIGTERM/SIGINT are passed on, so stopping the helper stops the command and
// its figures are still written.
void forward(int sig) {
    if (child > 0) ::kill(child, sig);
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
        std::fprintf(stderr, "usage: bench-rusage OUT.json -- COMMAND [ARGS...]\n");
        return 2;
    }
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) {
        std::fprintf(stderr, "bench-rusage: fork: %s\n", std::strerror(errno));
        return 1;
    }
    if (pid == 0) {
        ::execvp(argv[3], argv + 3);
        std::fprintf(stderr, "bench-rusage: exec %s: %s\n", argv[3], std::strerror(errno));
        ::_exit(127);
    }
    child = pid;
    struct sigaction sa{};
    sa.sa_handler = forward;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    int status = 0;
    rusage ru{};
    while (::wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            std::fprintf(stderr, "bench-rusage: wait4: %s\n", std::strerror(errno));
            return 1;
        }
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
    std::FILE* out = std::fopen(argv[1], "w");
    if (!out) {
        std::fprintf(stderr, "bench-rusage: write %s: %s\n", argv[1], std::strerror(errno));
        return 1;
    }
    std::fprintf(out, "{\"exit\":%d,\"wall_s\":%.3f,\"user_s\":%.3f,\"sys_s\":%.3f,\"max_rss_kb\":%ld}\n", code,
                 wall, secs(ru.ru_utime), secs(ru.ru_stime), ru.ru_maxrss);
    std::fclose(out);
    return code;
}
