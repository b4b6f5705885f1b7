# Every dependency comes from Debian 12 packages (scripts/setup.sh).
# Boost 1.81 is required: Debian's default libboost-dev is 1.74.
find_package(Boost 1.81.0 EXACT REQUIRED COMPONENTS json url system CONFIG)
find_package(OpenSSL 3 REQUIRED)
find_package(Threads REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(prometheus-cpp REQUIRED)
