/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rttq-api's dashboard: GET / answers one self-contained HTML page
 * (api/dashboard.html, embedded at build time) that charts p50/p90/p99
 * from /series and shows /quantiles for the whole range.
 */
#ifndef RTTQ_API_DASHBOARD_H
#define RTTQ_API_DASHBOARD_H

#include <event2/http.h>

/**
 * dashboard_register() - serve the dashboard page at "/" on @http.
 * @http: the server.
 *
 * @return 0, -ENOMEM.
 */
int dashboard_register(struct evhttp *http);

#endif /* RTTQ_API_DASHBOARD_H */
