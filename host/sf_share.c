// SPDX-License-Identifier: MIT
/*
 * Shared folders: the list of shares (pva-host --share, pva-hostctl share
 * add/remove) and the state file that lets a restarted worker serve the
 * same list as the one before it.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sf_int.h"

bool sf_share_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > PVA_SF_SHARE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

struct sf_share *sf_share_find(struct sf *sf, const char *name, size_t len)
{
	for (struct sf_share *s = sf->shares; s; s = s->next)
		if (strlen(s->name) == len && !memcmp(s->name, name, len))
			return s;
	return NULL;
}

int sf_share_add(struct service *svc, const char *name, const char *path,
		 bool ro, char *err, size_t errlen)
{
	struct sf *sf = sf_of(svc);
	struct sf_share *s, **pp;
	struct stat st;
	int fd;

	if (!sf_share_name_valid(name)) {
		snprintf(err, errlen, "'%s' is not a share name ([a-z0-9_.-], 1-%d characters)",
			 name, PVA_SF_SHARE_NAME_MAX);
		return -EINVAL;
	}
	if (path[0] != '/') {
		snprintf(err, errlen, "%s: the path must be absolute", path);
		return -EINVAL;
	}
	if (sf_share_find(sf, name, strlen(name))) {
		snprintf(err, errlen, "a share named '%s' exists", name);
		return -EEXIST;
	}
	if (sf->nshares >= SF_MAX_SHARES) {
		snprintf(err, errlen, "at most %d shares", SF_MAX_SHARES);
		return -ENOSPC;
	}
	/* the host's admin chose the path: following its symlinks is fine */
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	close(fd);
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->ro = ro;
	/* keep the order they were given in: SHARES lists them so */
	for (pp = &sf->shares; *pp; pp = &(*pp)->next)
		;
	*pp = s;
	sf->nshares++;
	return 0;
}

static void share_free(struct sf *sf, struct sf_share *s)
{
	struct sf_share **pp;

	for (pp = &sf->shares; *pp != s; pp = &(*pp)->next)
		;
	*pp = s->next;
	sf->nshares--;
	free(s->path);
	free(s);
}

int sf_share_remove(struct service *svc, const char *name)
{
	struct sf *sf = sf_of(svc);
	struct sf_share *s = sf_share_find(sf, name, strlen(name));
	struct sf_mount *m, *next;
	int revoked = 0;

	if (!s)
		return -ENOENT;
	/* the guest's later requests on these mounts get ESTALE */
	for (m = sf->mounts; m; m = next) {
		next = m->next;
		if (m->share == s) {
			sf_mount_free(sf, m);
			revoked++;
		}
	}
	share_free(sf, s);
	return revoked;
}

void sf_shares_free(struct sf *sf)
{
	while (sf->shares)
		share_free(sf, sf->shares);
}

struct json_object *sf_shares_json(struct sf *sf)
{
	struct json_object *a = json_object_new_array();

	for (struct sf_share *s = sf->shares; s; s = s->next) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(s->name));
		json_object_object_add(o, "path", json_object_new_string(s->path));
		json_object_object_add(o, "ro", json_object_new_boolean(s->ro));
		json_object_object_add(o, "from_cli",
				       json_object_new_boolean(s->from_cli));
		json_object_object_add(o, "mounts",
				       json_object_new_int64(s->mounts));
		json_object_array_add(a, o);
	}
	return a;
}

/* ---- the state file ---- */

/* Write the whole list (atomically: a new file renamed over the old). */
void sf_state_save(struct sf *sf)
{
	struct json_object *o;
	char *tmp;
	size_t n;

	if (!sf->state_file)
		return;
	n = strlen(sf->state_file) + 5;
	tmp = malloc(n);
	if (!tmp)
		return;
	snprintf(tmp, n, "%s.new", sf->state_file);
	o = json_object_new_object();
	json_object_object_add(o, "shares", sf_shares_json(sf));
	if (json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PRETTY) < 0 ||
	    rename(tmp, sf->state_file) < 0) {
		log_warn("sf: cannot write %s: %m; a restarted worker will serve the command line's shares",
			 sf->state_file);
		unlink(tmp);
	}
	json_object_put(o);
	free(tmp);
}

/* Load the list a previous worker saved; false if there is none. */
static bool state_load(struct service *svc, const char *path)
{
	struct sf *sf = sf_of(svc);
	struct json_object *o, *a, *e, *v;
	char err[256];
	size_t n;

	if (access(path, F_OK) < 0)
		return false;
	o = json_object_from_file(path);
	if (!o || !json_object_object_get_ex(o, "shares", &a) ||
	    !json_object_is_type(a, json_type_array)) {
		log_warn("sf: %s is not a share list; serving the command line's shares",
			 path);
		json_object_put(o);
		return false;
	}
	sf_shares_free(sf);
	n = json_object_array_length(a);
	for (size_t i = 0; i < n; i++) {
		const char *name = NULL, *p = NULL;
		bool ro = false, cli = false;

		e = json_object_array_get_idx(a, i);
		if (json_object_object_get_ex(e, "name", &v))
			name = json_object_get_string(v);
		if (json_object_object_get_ex(e, "path", &v))
			p = json_object_get_string(v);
		if (json_object_object_get_ex(e, "ro", &v))
			ro = json_object_get_boolean(v);
		if (json_object_object_get_ex(e, "from_cli", &v))
			cli = json_object_get_boolean(v);
		if (!name || !p || sf_share_add(svc, name, p, ro, err,
						sizeof(err)) < 0) {
			log_warn("sf: %s: share %zu skipped: %s", path, i,
				 name && p ? err : "no name or path");
			continue;
		}
		sf_share_find(sf, name, strlen(name))->from_cli = cli;
	}
	json_object_put(o);
	return true;
}

void sf_set_state_file(struct service *svc, const char *path, bool restore)
{
	struct sf *sf = sf_of(svc);

	free(sf->state_file);
	sf->state_file = path ? strdup(path) : NULL;
	if (!sf->state_file)
		return;
	if (restore && state_load(svc, path)) {
		log_info("sf: %u shares from %s", sf->nshares, path);
		return;
	}
	/* a fresh start: what is there now came from the command line */
	for (struct sf_share *s = sf->shares; s; s = s->next)
		s->from_cli = true;
	unlink(path);
}
