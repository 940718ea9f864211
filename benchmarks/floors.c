// Floors under `mv add` on this machine: what the hashing and the comparison of a new
// version cost by themselves, on one core and on two at once.
//
//   cc -O2 benchmarks/floors.c -o /tmp/floors -lgit2 -lpthread
//   python3 -c 'import os; open("/tmp/a.bin","wb").write(os.urandom(512<<20))'; cp /tmp/a.bin /tmp/b.bin
//   /tmp/floors /tmp/a.bin /tmp/b.bin
//
// 1. git's blob id (libgit2's collision-detecting SHA-1, `git_odb_hash`) of 256 MiB in memory.
// 2. The comparison (b) needs: 8 MiB pieces of two files in the page cache, mapped and
//    compared with memcmp (the bytes of an unchanged tensor against its stored blob).
#include <git2.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

enum { piece = 8 << 20 };
static const char *files[2];
static size_t compared;

static void *hash(void *unused) {
    (void)unused;
    size_t size = 256 << 20;
    unsigned char *bytes = malloc(size);
    for (size_t i = 0; i < size; i++) bytes[i] = (unsigned char)(i * 2654435761u >> 13);
    git_oid id;
    double start = now();
    git_odb_hash(&id, bytes, size, GIT_OBJECT_BLOB);
    double seconds = now() - start;
    printf("  sha1dc: %.0f MB/s\n", size / seconds / 1e6);
    free(bytes);
    return NULL;
}

static void *compare(void *unused) {
    (void)unused;
    int a = open(files[0], O_RDONLY), b = open(files[1], O_RDONLY);
    size_t differing = 0;
    double start = now();
    for (size_t offset = 0; offset + piece <= compared; offset += piece) {
        char *x = mmap(NULL, piece, PROT_READ, MAP_PRIVATE, a, (off_t)offset);
        char *y = mmap(NULL, piece, PROT_READ, MAP_PRIVATE, b, (off_t)offset);
        differing += memcmp(x, y, piece) != 0;
        munmap(x, piece);
        munmap(y, piece);
    }
    double seconds = now() - start;
    printf("  compare: %zu MiB against %zu MiB in %.1f ms (%.1f GB/s read, %zu pieces differ)\n", compared >> 20,
           compared >> 20, seconds * 1e3, 2.0 * compared / seconds / 1e9, differing);
    close(a);
    close(b);
    return NULL;
}

static void twice(void *(*work)(void *), const char *label) {
    printf("%s, one thread:\n", label);
    work(NULL);
    printf("%s, two threads at once:\n", label);
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, work, NULL);
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
}

int main(int argc, char **argv) {
    git_libgit2_init();
    twice(hash, "blob id of 256 MiB");
    if (argc < 3) return 0;
    files[0] = argv[1];
    files[1] = argv[2];
    struct stat info;
    if (stat(files[0], &info) != 0) return perror(files[0]), 1;
    compared = (size_t)info.st_size / piece * piece;
    // Both files in the page cache first, as the pack and the new input are in (b).
    char *buffer = malloc(piece);
    for (int i = 0; i < 2; i++) {
        int fd = open(files[i], O_RDONLY);
        while (read(fd, buffer, piece) > 0) {}
        close(fd);
    }
    free(buffer);
    twice(compare, "compare in 8 MiB pieces");
    return 0;
}
