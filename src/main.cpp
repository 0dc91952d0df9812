// s3ha entry point: command line only; everything else lives in s3ha_core.
#include <iostream>

int main() {
    std::cout << "s3ha " << S3HA_VERSION << "\n";
    return 0;
}
