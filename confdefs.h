/* confdefs.h */
#define PACKAGE_NAME "gvpn-agent"
#define PACKAGE_TARNAME "gvpn-agent"
#define PACKAGE_VERSION "0.1.0"
#define PACKAGE_STRING "gvpn-agent 0.1.0"
#define PACKAGE_BUGREPORT "https://example.invalid/gvpn-agent/issues"
#define PACKAGE_URL ""
#define PACKAGE "gvpn-agent"
#define VERSION "0.1.0"
