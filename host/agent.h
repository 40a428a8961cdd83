/* SPDX-License-Identifier: MIT */
/* What other parts of pva-host ask of the agent service (agent.c). */
#ifndef PVA_HOST_AGENT_H
#define PVA_HOST_AGENT_H

struct device;
struct json_object;

/* The display service set a new layout: the session applies it too. */
void agent_layout_changed(struct device *dev);
/* What the session shows, for display heads; NULL without the agent. */
struct json_object *agent_session_display(struct device *dev);

#endif
