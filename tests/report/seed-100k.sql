-- tests/report/seed-100k.sql — 100,000 items in a store that `sandrun run`
-- created (schema, run #1 with its job spec, an item or two), following
-- store/store_schema.c column by column: 90% done with an analyzer report
-- (about 1 KB of JSON each, as sandrun-analyze writes for a mono file), the
-- rest failed (timeouts after three attempts, OOM kills, bad input, crashes,
-- ...) with stderr tails, or pending; three more runs, one interrupted, one
-- with other limits. Run with: sqlite3 DB < seed-100k.sql (needs the sqlite3
-- shell's math functions: exp, ln).
-- A rollback journal while seeding: appended pages are not journaled, so
-- the file does not need twice its size on the suite's tmpfs (a WAL would).
PRAGMA journal_mode = DELETE;
PRAGMA synchronous = OFF;
BEGIN;
CREATE TEMP TABLE seed AS
WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 100000)
SELECT n,
       CASE WHEN n % 100 < 90 THEN 'ok'
            WHEN n % 100 < 93 THEN 'timeout'
            WHEN n % 100 < 94 THEN 'oom'
            WHEN n % 100 < 96 THEN 'bad_input'
            WHEN n % 100 < 97 THEN 'exit_nonzero'
            WHEN n % 100 < 98 THEN CASE WHEN n % 1000 < 975 THEN 'signaled' ELSE 'seccomp' END
            WHEN n % 200 < 197 THEN 'pending'
            ELSE 'input_error' END AS outcome,
       -- a log-normal-ish wall time around 300 ms and peak memory around 40 MiB
       CAST(300 * exp(0.8 * ((abs(random()) % 1000) / 1000.0 + (abs(random()) % 1000) / 1000.0
                            + (abs(random()) % 1000) / 1000.0 - 1.5)) AS INTEGER) AS wall,
       CAST(41943040 * exp(0.6 * ((abs(random()) % 1000) / 1000.0 + (abs(random()) % 1000) / 1000.0
                                  - 1.0)) AS INTEGER) AS mem
FROM k;

INSERT INTO runs (version, argv, spec, hostname, boot_id, pid_ns, pid, pid_start, started_at,
                  heartbeat_at, ended_at, how, summary)
SELECT version, '["sandrun","run","-r","/srv/media"]', spec, hostname, boot_id, pid_ns, pid + 1,
       pid_start, started_at + 60000, started_at + 1860000, started_at + 1860000, 'interrupted',
       '{"event":"summary","interrupted_by":"SIGINT","elapsed_ms":1800000}'
FROM runs WHERE id = 1;
INSERT INTO runs (version, argv, spec, hostname, boot_id, pid_ns, pid, pid_start, started_at,
                  heartbeat_at, ended_at, how, summary)
SELECT version, '["sandrun","run","-r","/srv/media"]', spec, hostname, boot_id, pid_ns, pid + 2,
       pid_start, started_at + 2000000, started_at + 5600000, started_at + 5600000, 'completed',
       '{"event":"summary","interrupted_by":null,"elapsed_ms":3600000}'
FROM runs WHERE id = 1;
-- the third run retried with --mem 512M --timeout 60
INSERT INTO runs (version, argv, spec, hostname, boot_id, pid_ns, pid, pid_start, started_at,
                  heartbeat_at, ended_at, how, summary)
SELECT version, '["sandrun","run","--mem","512M","--timeout","60","-r","/srv/media"]',
       json_set(spec, '$.limits.mem_bytes', 536870912, '$.limits.timeout_ms', 60000),
       hostname, boot_id, pid_ns, pid + 3, pid_start, started_at + 5700000, started_at + 6000000,
       NULL, 'lost', NULL
FROM runs WHERE id = 1;

CREATE TEMP TABLE base AS
SELECT (SELECT coalesce(max(id), 0) FROM items) AS item0,
       (SELECT coalesce(max(id), 0) FROM attempts) AS att0,
       (SELECT spec_key FROM items LIMIT 1) AS spec_key,
       (SELECT started_at FROM runs WHERE id = 1) AS t0,
       (SELECT max(id) FROM runs) AS lastrun;

INSERT INTO items (id, path, spec_key, size, mtime_ns, status, attempts, budget, last_outcome,
                   last_error, last_attempt, enqueued_at, updated_at)
SELECT b.item0 + s.n,
       printf('/srv/media/batch-%02d/take-%06d.%s', s.n % 37, s.n,
              CASE s.n % 3 WHEN 0 THEN 'wav' WHEN 1 THEN 'flac' ELSE 'mp3' END),
       b.spec_key,
       CASE WHEN s.outcome = 'input_error' THEN NULL ELSE 100000 + s.n * 7 END,
       CASE WHEN s.outcome = 'input_error' THEN NULL ELSE 1700000000000000000 + s.n END,
       CASE s.outcome WHEN 'ok' THEN 'done' WHEN 'pending' THEN 'pending' ELSE 'failed' END,
       CASE s.outcome WHEN 'timeout' THEN 3 WHEN 'pending' THEN 0 WHEN 'input_error' THEN 0
                      ELSE 1 END,
       1,
       CASE WHEN s.outcome = 'pending' THEN NULL ELSE s.outcome END,
       CASE s.outcome
            WHEN 'ok' THEN NULL WHEN 'pending' THEN NULL
            WHEN 'timeout' THEN 'wall-clock timeout after 600.0 s'
            WHEN 'oom' THEN 'out of memory (limit 1024 MiB, 1 OOM kill)'
            WHEN 'bad_input' THEN 'Format not recognised.'
            WHEN 'exit_nonzero' THEN 'exited with status 70'
            WHEN 'signaled' THEN 'killed by signal 11 (SIGSEGV)'
            WHEN 'seccomp' THEN 'seccomp: killed on forbidden system call socket'
            ELSE 'cannot open: Permission denied' END,
       CASE WHEN s.outcome IN ('pending', 'input_error') THEN NULL
            ELSE b.att0 + s.n * 3 END,
       b.t0, b.t0 + s.n * 50
FROM seed s, base b;

-- One attempt per item that ran; the timeouts have three (two retried).
WITH RECURSIVE tries(a) AS (SELECT 0 UNION ALL SELECT a + 1 FROM tries WHERE a < 2)
INSERT INTO attempts (id, item_id, run_id, budget, attempt_no, counted, started_at, ended_at,
                      outcome, exit_code, signal, syscall, wall_ms, cpu_ms, peak_memory_bytes,
                      oom_kills, error, stderr_tail)
SELECT b.att0 + s.n * 3 - (CASE WHEN s.outcome = 'timeout' THEN 2 - t.a ELSE 0 END),
       b.item0 + s.n,
       CASE WHEN s.n % 10 < 3 THEN 2 WHEN s.n % 10 < 9 THEN 3 ELSE b.lastrun END,
       1, t.a + 1, 1, b.t0 + s.n * 50, b.t0 + s.n * 50 + s.wall, s.outcome,
       CASE s.outcome WHEN 'ok' THEN 0 WHEN 'bad_input' THEN 65 WHEN 'exit_nonzero' THEN 70 END,
       CASE s.outcome WHEN 'signaled' THEN 11 WHEN 'seccomp' THEN 31 WHEN 'timeout' THEN 9
                      WHEN 'oom' THEN 9 END,
       CASE WHEN s.outcome = 'seccomp' THEN 'socket' END,
       CASE s.outcome WHEN 'timeout' THEN 600000 + s.n % 250 ELSE s.wall END,
       CASE s.outcome WHEN 'timeout' THEN 5000 + s.n % 900 ELSE s.wall * 9 / 10 END,
       CASE s.outcome WHEN 'oom' THEN 1073741824 - s.n % 4096 ELSE s.mem END,
       CASE s.outcome WHEN 'oom' THEN 1 ELSE 0 END,
       CASE WHEN s.outcome <> 'ok' THEN (SELECT last_error FROM items WHERE id = b.item0 + s.n) END,
       CASE WHEN s.outcome NOT IN ('ok', 'timeout') THEN
            CAST(substr(replace(hex(zeroblob(120)), '00',
                 printf('decoder: frame %d: invalid sync word at offset %d' || char(10), s.n, s.n * 31)),
                 1, 3000) AS BLOB) END
FROM seed s, base b, tries t
WHERE s.outcome NOT IN ('pending', 'input_error') AND (t.a = 0 OR s.outcome = 'timeout');

-- The analyzer's report (schema 1) for every done item, ~1 KB each.
INSERT INTO results (item_id, attempt_id, kind, value, stored_at)
SELECT b.item0 + s.n, b.att0 + s.n * 3, 'json',
       json_object(
         'schema', 1, 'analyzer', 'sandrun-analyze seed',
         'format', json_object('container', 'wav', 'container_name', 'WAV (Microsoft)',
                               'codec', 'pcm_16', 'codec_name', 'Signed 16 bit PCM',
                               'sample_rate', 48000, 'channels', 1,
                               'frames', 48000 * (5 + s.n % 600), 'frames_declared', 48000 * (5 + s.n % 600),
                               'duration_s', 5 + s.n % 600 + (s.n % 7) / 10.0),
         'levels', json_object('sample_peak_dbfs', -1 - (s.n % 200) / 20.0,
                               'true_peak_dbtp', CASE WHEN s.n % 250 = 0 THEN 0.4 ELSE -0.8 - (s.n % 200) / 20.0 END,
                               'rms_dbfs', -18 - (s.n % 120) / 10.0, 'dc_offset', 0.0001,
                               'crest_factor_db', 12.5,
                               'clipped_samples', CASE WHEN s.n % 250 = 0 THEN 10 + s.n % 5000 ELSE 0 END,
                               'clipping_runs', CASE WHEN s.n % 250 = 0 THEN 3 ELSE 0 END,
                               'zero_crossing_rate', 0.0417,
                               'silence_ratio', CASE WHEN s.n % 500 = 1 THEN 0.97 ELSE (s.n % 30) / 100.0 END,
                               'clip_threshold', 0.9999694824),
         'silence', json_object('threshold_dbfs', -60, 'window_s', 0.05, 'windows', 100,
                                'ratio', CASE WHEN s.n % 500 = 1 THEN 0.97 ELSE (s.n % 30) / 100.0 END),
         'spectrum', json_object('spectral_centroid_hz', 1000 + s.n % 3000, 'fft_size', 2048,
                                 'hop', 2048, 'window', 'hann', 'frames', 117, 'frames_used', 117),
         'loudness', json_object('integrated_lufs',
                                 CASE WHEN s.n % 500 = 1 THEN NULL
                                      ELSE -23 + 6 * ((abs(random()) % 1000) / 1000.0
                                                      + (abs(random()) % 1000) / 1000.0 - 1) END,
                                 'range_lu', 6.5, 'standard', 'ITU-R BS.1770-4, EBU R128',
                                 'skipped', NULL),
         'channels', json_array(json_object('index', 0, 'sample_peak_dbfs', -1.0,
                                            'true_peak_dbtp', -0.8, 'rms_dbfs', -18.0,
                                            'dc_offset', 0.0001, 'crest_factor_db', 12.5,
                                            'clipped_samples', 0, 'clipping_runs', 0,
                                            'zero_crossing_rate', 0.0417, 'silence_ratio', 0)),
         'damage', json_object('damaged', json(CASE WHEN s.n % 1000 = 7 THEN 'true' ELSE 'false' END),
                               'truncated', json(CASE WHEN s.n % 1000 = 7 THEN 'true' ELSE 'false' END),
                               'frames_missing', 0, 'decoder_error', NULL, 'io_error', NULL,
                               'io_errors', 0, 'failed_seeks', 0, 'non_finite_samples', 0,
                               'decoder_log', json_array())),
       b.t0 + s.n * 50
FROM seed s, base b WHERE s.outcome = 'ok';
COMMIT;
PRAGMA journal_mode = WAL;
