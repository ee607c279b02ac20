# Bad input against a TLS server (test_tls_abuse.c): peers that do not speak
# TLS, stall, leave mid-handshake or present refused certificates, and the
# worker's memory across 2000 failed handshakes. Uses the robust suite's
# echo app and /proc readers. Included by tests/tls/CMakeLists.txt, which
# makes the certificates (fixture tls_certs, $NETFW_TLS_CERTS); without it
# the test makes its own in a temporary directory.
netfw_add_test(test_tls_abuse
               SOURCES test_tls_abuse.c abuse_kit.c
                       ${PROJECT_SOURCE_DIR}/tests/robust/robust.c
               LIBS PkgConfig::OPENSSL
               LABELS "tls;robust" TIMEOUT 240)
target_include_directories(test_tls_abuse PRIVATE
                           ${PROJECT_SOURCE_DIR}/tests/robust)
target_compile_definitions(test_tls_abuse PRIVATE
                           NETFW_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
if(DEFINED NETFW_TLS_CERTS_DIR)
  set_tests_properties(test_tls_abuse PROPERTIES
                       FIXTURES_REQUIRED tls_certs
                       ENVIRONMENT NETFW_TLS_CERTS=${NETFW_TLS_CERTS_DIR})
endif()

