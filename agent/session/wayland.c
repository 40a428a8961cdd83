// SPDX-License-Identifier: MIT
/* placeholder: the wayland backend is being written */
#include "agent.h"
#include "log.h"

static struct backend *open_be(struct agent *a, struct loop *loop,
			       const struct agent_options *opt)
{
	(void)a; (void)loop; (void)opt;
	log_err("the wayland backend is not built yet");
	return NULL;
}

const struct backend_ops wayland_backend_ops = {
	.kind = "wayland",
	.open = open_be,
};
