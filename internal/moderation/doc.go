// Package moderation is accountable moderation under the Digital Services
// Act: notices (Art. 16), cases and their lanes, decisions and the
// restrictions they put in force (published as policy.Policy per space),
// statements of reasons (Art. 17), authorities' orders (Art. 9, 10),
// escalations (Art. 18), appeals (Art. 20), misuse (Art. 23), and the
// hash-chained event log the transparency report (Art. 15, 24) is
// computed from. It does no HTTP and keeps its records through Store.
package moderation
