// SPDX-License-Identifier: MIT
/* placeholder: the x11 backend is being written */
#include "agent.h"
#include "log.h"

static struct backend *open_be(struct agent *a, struct loop *loop,
			       const struct agent_options *opt)
{
	(void)a; (void)loop; (void)opt;
	log_err("the x11 backend is not built yet");
	return NULL;
}

const struct backend_ops x11_backend_ops = {
	.kind = "x11",
	.open = open_be,
};
