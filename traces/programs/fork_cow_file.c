/* fork_cow_file: a small program whose page faults cover the kernel model's
 * classes (traces/README.md, "OS events"; the trace traces/fork_cow_file.bin.zst
 * is its capture).
 *
 *   fork_cow_file [DATA_FILE]        (default: fork_cow_file.dat in the cwd)
 *
 * 1. writes a 64 KiB data file with write() and maps it twice, MAP_SHARED
 *    read-write and MAP_PRIVATE read-write;
 * 2. allocates 256 KiB with malloc (above glibc's 128 KiB mmap threshold: an
 *    anonymous mapping) and writes 8 of its pages;
 * 3. reads 4 pages of the shared mapping, writes 1; reads 2 pages of the
 *    private mapping, writes 1 (a private copy of a file page);
 * 4. forks: the child writes 4 of the anonymous pages (copy-on-write), reads 4
 *    pages of the shared mapping and 1 of the private one, writes 1 shared
 *    page, and exits;
 * 5. the parent waits, writes the same 4 anonymous pages again (its pages are
 *    exclusive again: COW reuse), unmaps, closes, removes the file and exits.
 *
 * With MMUSIM_RUSAGE=1 it prints as its last line
 *   rusage minflt=N majflt=M
 * the minor and major faults of the process and its waited-for children
 * (getrusage RUSAGE_SELF + RUSAGE_CHILDREN). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kPage = 4096, kFilePages = 16, kAnonPages = 64, kTouched = 8, kCow = 4 };

static void die(const char *what) {
  perror(what);
  exit(1);
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "fork_cow_file.dat";
  static char block[kPage];
  memset(block, 'x', sizeof block);

  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die("open");
  for (int i = 0; i < kFilePages; ++i) {
    if (write(fd, block, sizeof block) != (ssize_t)sizeof block) die("write");
  }
  volatile char *shared =
      mmap(NULL, kFilePages * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  volatile char *priv =
      mmap(NULL, kFilePages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (shared == MAP_FAILED || priv == MAP_FAILED) die("mmap");

  volatile char *anon = malloc(kAnonPages * kPage);
  if (anon == NULL) die("malloc");
  for (int i = 0; i < kTouched; ++i) anon[i * kPage] = (char)i;

  int sum = 0;
  for (int i = 0; i < 4; ++i) sum += shared[i * kPage];
  shared[5 * kPage] = 's';
  sum += priv[8 * kPage] + priv[9 * kPage];
  priv[8 * kPage] = 'p';

  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    for (int i = 0; i < kCow; ++i) anon[i * kPage] = 'c';
    for (int i = 0; i < 4; ++i) sum += shared[(10 + i) * kPage];
    sum += priv[8 * kPage];
    shared[14 * kPage] = 'c';
    _exit(sum == 0 ? 2 : 0);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child) die("waitpid");
  for (int i = 0; i < kCow; ++i) anon[i * kPage] = 'p';

  if (munmap((void *)shared, kFilePages * kPage) != 0) die("munmap");
  if (munmap((void *)priv, kFilePages * kPage) != 0) die("munmap");
  free((void *)anon);
  close(fd);
  unlink(path);

  const char *rusage = getenv("MMUSIM_RUSAGE");
  if (rusage != NULL && strcmp(rusage, "1") == 0) {
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    printf("rusage minflt=%ld majflt=%ld\n", self.ru_minflt + children.ru_minflt,
           self.ru_majflt + children.ru_majflt);
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
