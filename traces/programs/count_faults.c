/* count_faults: the page faults a command takes from its execve on, as the
 * kernel counts them (getrusage), for comparison with a capture of the same
 * command (scripts/validate-faults).
 *
 *   count_faults OUT_FILE COMMAND [ARGS...]
 *
 * Forks; the child reads its own fault counts (getrusage RUSAGE_SELF), sends
 * them to the parent through a close-on-exec pipe and executes COMMAND (looked
 * up in PATH) with this process's stdin, stdout, stderr and environment. The
 * parent waits for it (wait4: the command's rusage, its waited-for children
 * included) and writes to OUT_FILE
 *   minflt=N      minor faults of the command and its children, from execve on
 *   majflt=M      major faults, likewise
 *   pre_exec=K    faults (minor + major) the forked child took before execve
 * Exit status: the command's (128 + signal if it was killed); 2 on a usage
 * or system error; 127 if COMMAND could not be executed.
 *
 * Why: a task's fault counters survive execve, so a program started by a
 * shell also counts the faults of the shell's forked child before the exec
 * (copy-on-write of the shell's pages while it sets up redirections and
 * pipes): getrusage inside the program then depends on how its stdout was
 * redirected. Subtracting the count taken just before execve leaves what
 * the program itself (its loader, libraries, main and children) and the
 * kernel's execve work on its behalf took. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what) {
  fprintf(stderr, "count_faults: %s: %s\n", what, strerror(errno));
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: count_faults OUT_FILE COMMAND [ARGS...]\n");
    return 2;
  }
  int p[2];
  if (pipe(p) != 0) return fail("pipe");
  if (fcntl(p[1], F_SETFD, FD_CLOEXEC) != 0) return fail("fcntl");
  pid_t child = fork();
  if (child < 0) return fail("fork");
  if (child == 0) {
    close(p[0]);
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    const long before[2] = {self.ru_minflt, self.ru_majflt};
    if (write(p[1], before, sizeof before) != (ssize_t)sizeof before) _exit(2);
    execvp(argv[2], argv + 2);
    long err = errno;  // the pipe is still open: tell the parent exec failed
    if (write(p[1], &err, sizeof err) != (ssize_t)sizeof err) _exit(127);
    _exit(127);
  }
  close(p[1]);
  long msg[3] = {0, 0, 0};  // minflt and majflt before execve; errno if it failed
  ssize_t got = 0;
  for (ssize_t n = 1; n > 0 && got < (ssize_t)sizeof msg; got += n) {
    n = read(p[0], (char *)msg + got, sizeof msg - (size_t)got);
    if (n < 0) n = 0;
  }
  close(p[0]);
  int status = 0;
  struct rusage ru;
  if (wait4(child, &status, 0, &ru) != child) return fail("wait4");
  if (got == (ssize_t)sizeof msg) {
    fprintf(stderr, "count_faults: %s: %s\n", argv[2], strerror((int)msg[2]));
    return 127;
  }
  if (got != 2 * (ssize_t)sizeof(long)) {
    fprintf(stderr, "count_faults: the child did not report its counts\n");
    return 2;
  }
  FILE *out = fopen(argv[1], "w");
  if (out == NULL) return fail(argv[1]);
  fprintf(out, "minflt=%ld\nmajflt=%ld\npre_exec=%ld\n", ru.ru_minflt - msg[0],
          ru.ru_majflt - msg[1], msg[0] + msg[1]);
  if (fclose(out) != 0) return fail(argv[1]);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
