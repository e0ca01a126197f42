// Package rest carries out tasks through an app's user API: one HTTP
// call per kind of task, described by templates in the app's settings.
//
// An Action's templates see the task, the account and the task's params
// (see data). What they print is escaped for where it goes, so that user
// data cannot change the request's shape:
//
//   - URL: every value is percent-encoded as one path segment or query
//     value, except {{.Base}} as a whole action, which is printed as is.
//     An empty value, "." or ".." is refused: a request to
//     /api/users//deactivate or /api/users/.. would reach another
//     resource. The URL must stay on the scheme and host of Base.
//   - Body: every value is JSON-encoded (strings quoted, < > & escaped),
//     so write {"email": {{.Account.Email}}}, not "{{.Account.Email}}".
//     {{json .X}} says the same explicitly and is not encoded twice.
//   - Headers: values are printed as they are; one with a line break or
//     other control character is refused.
//
// {{secret "name"}} prints one of Config.Secrets; New fails on a name
// that is not there. A missing key of .Params fails the task (a
// reassignment whose receiver was not chosen goes to an admin).
//
// Executor keeps, per app, a rate limit (never more than RatePerMinute
// requests in any 60 seconds), a pause when the app sends Retry-After,
// and a circuit breaker that hands tasks to admins while the API keeps
// failing.
package rest
