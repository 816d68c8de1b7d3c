/* pressure: the memory-pressure scenario of os-model.md §5.3 as a real
 * program, the native counterpart of traces/examples/os_pressure.txt.zst
 * (made by scripts/pressure-trace; traces/README.md, "The memory-pressure
 * scenario"). scripts/pressure-native runs it under a memory limit.
 *
 *   pressure DATA_FILE [FILE_PASSES]     (FILE_PASSES 1..16, default 1)
 *
 * 1. allocates 32 MiB with malloc (above glibc's mmap threshold: one
 *    anonymous mapping of 32 MiB + 4 KiB) and writes one byte in each of its
 *    8192 pages, in order;
 * 2. opens DATA_FILE read-only, drops its cached pages
 *    (POSIX_FADV_DONTNEED: the run starts with a cold page cache, as the
 *    model does), maps it whole MAP_SHARED read-only and reads one byte of
 *    each page, in order, FILE_PASSES times;
 * 3. forks: the child writes the first page of the buffer (copy-on-write),
 *    reads file page 2 (the child has no PTEs of the shared file mapping:
 *    fork does not copy them) and exits;
 * 4. the parent waits for it and writes every page of the buffer again (its
 *    pages are its own again: COW reuse, or a swap-in for a page swapped out
 *    meanwhile);
 * 5. msync(MS_SYNC) of the file mapping (clean: nothing to write), munmap,
 *    close, free (munmap of the buffer), exit.
 *
 * With MMUSIM_RUSAGE=1 it prints as its last line
 *   rusage minflt=N majflt=M
 * the minor and major faults of the process and its waited-for child
 * (getrusage RUSAGE_SELF + RUSAGE_CHILDREN). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kPage = 4096, kAnonPages = 8192, kMaxPasses = 16 };

static volatile unsigned sink; /* the sum of the bytes read (volatile reads stay anyway) */

static void die(const char* what) {
  perror(what);
  exit(1);
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: pressure DATA_FILE [FILE_PASSES]\n");
    return 2;
  }
  const int passes = argc > 2 ? atoi(argv[2]) : 1;
  if (passes < 1 || passes > kMaxPasses) {
    fprintf(stderr, "pressure: FILE_PASSES must be 1..%d\n", kMaxPasses);
    return 2;
  }

  volatile char* buf = malloc((size_t)kAnonPages * kPage);
  if (buf == NULL) die("malloc");
  for (int i = 0; i < kAnonPages; ++i) buf[(size_t)i * kPage] = (char)i;

  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) die("open");
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat");
  const size_t file_pages = (size_t)st.st_size / kPage;
  if (file_pages < 3) {
    fprintf(stderr, "pressure: %s: expected at least 3 pages\n", argv[1]);
    return 2;
  }
  int err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  if (err != 0) fprintf(stderr, "pressure: posix_fadvise: error %d\n", err);
  const size_t len = file_pages * kPage;
  volatile const char* map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) die("mmap");
  unsigned sum = 0;
  for (int p = 0; p < passes; ++p) {
    for (size_t i = 0; i < file_pages; ++i) sum += (unsigned char)map[i * kPage];
  }

  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    buf[0] = 'c';
    sum += (unsigned char)map[2 * kPage];
    sink = sum;
    _exit(0);
  }
  sink = sum;
  int status = 0;
  if (waitpid(child, &status, 0) != child) die("waitpid");
  for (int i = 0; i < kAnonPages; ++i) buf[(size_t)i * kPage] = 'p';

  if (msync((void*)map, len, MS_SYNC) != 0) die("msync");
  if (munmap((void*)map, len) != 0) die("munmap");
  if (close(fd) != 0) die("close");
  free((void*)buf);

  if (getenv("MMUSIM_RUSAGE") != NULL) {
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    printf("rusage minflt=%ld majflt=%ld\n", self.ru_minflt + children.ru_minflt,
           self.ru_majflt + children.ru_majflt);
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
