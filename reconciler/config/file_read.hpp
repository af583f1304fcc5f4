// Reading a small file whole, with errno and the file's mode, for the config
// file and secret files.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>

namespace reconciler::config_detail {

struct file_read {
    std::string data;
    int error = 0;           // errno of the failing call; 0 on success
    bool too_large = false;  // stopped after max_bytes
    mode_t mode = 0;         // st_mode of the opened file
};

// Never throws. The mode is that of the very file read (fstat on the open
// descriptor), so a check on it cannot be raced.
file_read read_file_bounded(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace reconciler::config_detail
