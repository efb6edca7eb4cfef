/*
 * bt_salvage.c - what the sqlite3 shell still reads from a damaged
 * database file, written into a new one.
 *
 * Owns: running `sqlite3 DAMAGED CMD | sqlite3 OUT' (BT_SQLITE3, started
 * with execvp(3): the file names go in argv, never through /bin/sh), and
 * the order of the tries: .recover first, then, where the shell cannot
 * (Debian's build lacks the sqlite_dbpage table .recover needs), .dump
 * of the tables asked for.
 *
 * Invariants: `out' is created new (O_EXCL) for each try; the shell's
 * closing "ROLLBACK; -- due to errors" of a .dump that met corruption is
 * turned into COMMIT, so what was read is kept.  What is salvaged is
 * suspect and only ever counted by bt, never merged (bt_restore.c).
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_conf.h"
#include "bt_salvage.h"

/*
 * Runs `sqlite3 SRC CMD... | sqlite3 OUT', the parent passing the SQL on
 * and turning the shell's closing "ROLLBACK; -- due to errors" (a .dump
 * that met corruption) into COMMIT, so what was read is kept.  0 when
 * both shells exit 0.
 */
static int
shell_pipe(const char *src, const char *const *cmd, int ncmd,
    const char *out)
{
	const char *cli = bt_conf("BT_SQLITE3");
	const char *argv[16];
	int in[2], outp[2], st1 = 0, st2 = 0, fd, i;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	pid_t a, b;
	FILE *r, *w;

	if (pipe(in) == -1)
		return -1;
	if (pipe(outp) == -1) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	argv[0] = cli;
	argv[1] = src;
	for (i = 0; i < ncmd && i < 13; i++)
		argv[2 + i] = cmd[i];
	argv[2 + i] = NULL;
	if ((a = fork()) == 0) {
		dup2(in[1], STDOUT_FILENO);
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		/* .recover's failure here is expected; .dump follows. */
		if (strcmp(cmd[0], ".recover") == 0 &&
		    (fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, STDERR_FILENO);
		execvp(cli, (char *const *)argv);
		_exit(127);
	}
	if ((b = fork()) == 0) {
		dup2(outp[0], STDIN_FILENO);
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, STDOUT_FILENO);
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		execlp(cli, cli, out, (char *)NULL);
		_exit(127);
	}
	close(in[1]);
	close(outp[0]);
	r = fdopen(in[0], "r");
	w = fdopen(outp[1], "w");
	while (r != NULL && w != NULL && (len = getline(&line, &cap, r)) != -1)
		fputs(strncmp(line, "ROLLBACK; -- due to errors", 26) == 0 ?
		    "COMMIT;\n" : line, w);
	free(line);
	if (r != NULL)
		fclose(r);
	if (w != NULL)
		fclose(w);
	if (a > 0)
		while (waitpid(a, &st1, 0) == -1 && errno == EINTR)
			;
	if (b > 0)
		while (waitpid(b, &st2, 0) == -1 && errno == EINTR)
			;
	if (a == -1 || b == -1 || !WIFEXITED(st1) || !WIFEXITED(st2) ||
	    WEXITSTATUS(st1) != 0 || WEXITSTATUS(st2) != 0)
		return -1;
	return 0;
}

/*
 * What the sqlite3 shell still reads from the damaged file, into `out':
 * .recover first; where the shell cannot (Debian's build lacks the
 * sqlite_dbpage table it needs), .dump of the tables bt cannot re-fetch.
 */
int
bt_salvage(const char *damaged, const char *out, json_t *tables,
    const char **how, char *err)
{
	const char *cmd[14] = { ".recover" };
	struct bt_buf d = { 0 };
	size_t i;
	int fd, rc;

	for (i = 0; i < 2; i++) {
		unlink(out);
		if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600)) == -1) {
			snprintf(err, BT_ERRLEN, "create %s: %s", out,
			    strerror(errno));
			return BT_EX_CANTCREAT;
		}
		close(fd);
		if (i == 0) {
			*how = "recover";
			rc = shell_pipe(damaged, cmd, 1, out);
		} else {
			*how = "dump";
			bt_buf_add(&d, ".dump", 5);
			for (fd = 0; fd < 12 && (size_t)fd <
			    json_array_size(tables); fd++)
				bt_buf_printf(&d, " \"%s\"", json_string_value(
				    json_array_get(tables, (size_t)fd)));
			cmd[0] = d.p;
			rc = shell_pipe(damaged, cmd, 1, out);
			bt_buf_free(&d);
		}
		if (rc == 0)
			return 0;
	}
	snprintf(err, BT_ERRLEN, "%s could read nothing back from %s",
	    bt_conf("BT_SQLITE3"), damaged);
	return BT_EX_SOFTWARE;
}
