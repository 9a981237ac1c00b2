/* The program behind the golden traces (tests/data/README.md): a small stand-in for a scraper
 * whose memory grows. Each page is parsed into a temporary buffer (freed at once), appended to a
 * cache that is only freed at exit (a growth leak, not a leak at exit), and every fourth page
 * leaks a 300-byte header (a leak at exit that also grows). The config is loaded once and kept
 * (flat: leaked at exit, never a growth leak). A marker after every 10 pages.
 * Usage: scraper [PAGES [markers|nomarkers]]   (default 40 markers) */
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The tracer's marker entry point, weak so the program runs without it (include/heapwise/heapwise.h). */
extern int heapwise_tracer_snapshot(const char* label) __attribute__((weak));

struct record {
    struct record* next;
    char body[200];
};

static char* g_config;
static struct record* g_cache;
static char* volatile g_sink;

__attribute__((noinline)) static void load_config(void) {
    g_config = malloc(8192);
    memset(g_config, 'c', 8192);
}

__attribute__((noinline)) static void parse_page(int page) {
    char* text = malloc(1024 + (size_t)page);
    memset(text, 'p', 1024);
    g_sink = text;
    free(text);
}

__attribute__((noinline)) static void cache_page(int page) {
    struct record* r = malloc(sizeof *r);
    memset(r->body, page & 0x7f, sizeof r->body);
    r->next = g_cache;
    g_cache = r;
}

__attribute__((noinline)) static void keep_header(int page) {
    if (page % 4 != 0) return;
    char* header = malloc(300);
    memset(header, 'h', 300);
    g_sink = header; /* never freed */
}

__attribute__((noinline)) static void free_cache(void) {
    while (g_cache) {
        struct record* next = g_cache->next;
        free(g_cache);
        g_cache = next;
    }
}

static void pause_ms(long ms) {
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char** argv) {
    const int pages = argc > 1 ? atoi(argv[1]) : 40;
    const int markers = argc > 2 ? strcmp(argv[2], "nomarkers") != 0 : 1;
    load_config();
    for (int page = 1; page <= pages; ++page) {
        parse_page(page);
        cache_page(page);
        keep_header(page);
        pause_ms(1);
        if (page % 10 == 0 && markers && heapwise_tracer_snapshot) {
            char label[32];
            strcpy(label, "batch-");
            label[6] = (char)('0' + page / 10 % 10);
            label[7] = '\0';
            heapwise_tracer_snapshot(label);
        }
    }
    free_cache();
    return 0;
}
