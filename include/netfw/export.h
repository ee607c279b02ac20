/* netfw — symbol visibility and compiler attributes shared by every header. */
#ifndef NETFW_EXPORT_H
#define NETFW_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define NETFW_EXTERN __attribute__((visibility("default")))
#define NETFW_NODISCARD __attribute__((warn_unused_result))
#define NETFW_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
/* An old name kept for one release: using it warns, with msg. */
#define NETFW_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define NETFW_EXTERN
#define NETFW_NODISCARD
#define NETFW_PRINTF(fmt, args)
#define NETFW_DEPRECATED(msg)
#endif

#endif /* NETFW_EXPORT_H */
