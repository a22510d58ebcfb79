/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Symbol visibility for librttq: the library is compiled with
 * -fvisibility=hidden and only functions marked RTTQ_API are exported.
 */
#ifndef RTTQ_EXPORT_H
#define RTTQ_EXPORT_H

#if defined(__GNUC__)
#define RTTQ_API __attribute__((visibility("default")))
#define RTTQ_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define RTTQ_API
#define RTTQ_PRINTF(fmt, args)
#endif

#endif /* RTTQ_EXPORT_H */
