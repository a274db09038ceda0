# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_atoctl_global_optspecs
    string join \n kratos-admin-url= kratos-token= kratos-token-file= hydra-admin-url= database-url= force-append incident= operator= o/output= y/yes dry-run timeout= h/help V/version
end

function __fish_atoctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_atoctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_atoctl_using_subcommand
    set -l cmd (__fish_atoctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c atoctl -n "__fish_atoctl_needs_command" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_needs_command" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_needs_command" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_needs_command" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_needs_command" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_needs_command" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_needs_command" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_needs_command" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_needs_command" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_needs_command" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_needs_command" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_needs_command" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_needs_command" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "incident" -d 'Open, annotate, show and verify the incident journal'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "identity" -d 'Show an identity as an incident needs it: state, addresses, credentials with their times, sessions; never a secret'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "sessions" -d 'List an identity\'s sessions with their devices (IP, user agent, location)'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "revoke" -d 'End every session of an identity (evidence first), one session, or many identities'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "disable-password" -d 'Make the identity\'s current password unusable without touching anything else'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "lock" -d 'Set the identity inactive AND end its sessions (inactive alone logs nobody out)'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "unlock" -d 'Set the identity active again, first ending any session that would come back to life'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "recover" -d 'Issue an admin recovery code (default) or link for the rightful owner, shown once'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "schema" -d 'Print the DDL of the audit tables and the indexes atoctl\'s queries need'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "audit-query" -d 'List an identity\'s security events in a window, flagging the suspicious ones'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "pattern-scan" -d 'Find other identities hit from the same IPs or user agents'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "hibp-check" -d 'Check a password against Have I Been Pwned without revealing it'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "report" -d 'Render the incident report for the team, or the notice to the account owner, from the journal alone'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "respond" -d 'Run the playbook for an identity step by step; running it again continues where it stopped'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "playbook" -d 'Check playbook files (for CI), or show the checklist with each step\'s status'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "restore" -d 'Put back what the attacker changed (e-mail, traits) and remove what they added (social logins, MFA, OAuth2 grants), then contain; or reverse one e-mail change from its "this wasn\'t me" key'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "drill" -d 'Rehearse an account takeover end to end on a sandbox atoctl starts on loopback'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, elvish, powershell)'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "man" -d 'Print the man page (roff) on stdout, or write one page per subcommand into a directory'
complete -c atoctl -n "__fish_atoctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -f -a "open" -d 'Create a new journal (at --incident FILE, which must not exist, or under ./incidents/)'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -f -a "verify" -d 'Check the journal\'s hash chain; exit 5 naming the first bad line'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -f -a "note" -d 'Record a note (and the root cause, when known)'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -f -a "show" -d 'Show the timeline as a table, or every entry with -o json'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -f -a "close" -d 'End the incident: later steps on its identity open a new one'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and not __fish_seen_subcommand_from open verify note show close help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l identity -d 'The identity the incident is about: its UUID, or a login identifier (looked up in Kratos, exact match)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l summary -d 'One line on what happened' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l reported-at -d 'When the user reported it (RFC 3339), default now' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from open" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -l head -d 'A head hash recorded earlier (in a ticket, from `incident verify` or `incident show`; 12 to 64 hex digits): the chain must pass through it, else exit 5' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -l root-cause -d 'The root cause, e.g. phishing, credential-stuffing, password-reuse, malware, session-hijack, sim-swap, unknown' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -l text -d 'Free text' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from note" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -l resolution -d 'How the incident ended, one line' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from close" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "open" -d 'Create a new journal (at --incident FILE, which must not exist, or under ./incidents/)'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check the journal\'s hash chain; exit 5 naming the first bad line'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "note" -d 'Record a note (and the root cause, when known)'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the timeline as a table, or every entry with -o json'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "close" -d 'End the incident: later steps on its identity open a new one'
complete -c atoctl -n "__fish_atoctl_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -l identity -d 'The identity: its UUID, or a login identifier such as an e-mail address (exact match)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand identity" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -l identity -d 'The identity: its UUID, or a login identifier such as an e-mail address (exact match)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -l active -d 'Only sessions that are still active'
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand sessions" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l identity -d 'End every session of this identity (its UUID, or a login identifier such as an e-mail address); with --session, the identity the session must belong to' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l session -d 'End this one session only (soft: Kratos keeps the row and its devices)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l concurrency -d 'With --stdin: identities handled at once' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l rate -d 'With --stdin: start at most this many identities per second (0.01 to 10000); the server\'s rate-limit answers pace the run besides' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l stdin -d 'Read identities from stdin, one a line: UUIDs or login identifiers (blank lines and # comments ignored)'
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand revoke" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -l identity -d 'The identity: its UUID, or a login identifier such as an e-mail address (exact match)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand disable-password" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -l identity -d 'The identity: its UUID, or a login identifier such as an e-mail address (exact match)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand lock" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -l identity -d 'The identity: its UUID, or a login identifier such as an e-mail address (exact match)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand unlock" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l identity -d 'The identity: its UUID, or a login identifier such as an e-mail address (exact match)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l method -d 'Recovery code or link' -r -f -a "code\t'A six-digit code the owner types into the recovery screen'
link\t'A one-time link'"
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l expires-in -d 'How long it stays valid: 30m, 1h, 1h30m, 7d, at least 1s (default: Kratos\'s configured lifespan)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand recover" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand schema" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l identity -d 'The identity: its UUID, or a login identifier such as an e-mail address (looked up in Kratos, exact match)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l since -d 'The window reaches back this far from now (default 24h)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l from -d 'Window start: RFC 3339 (2026-11-24T08:00:00Z), a date (2026-11-24, midnight UTC) or now; without --to, up to now' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l to -d 'Window end (exclusive), written like --from; needs --from' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l event -d 'Only these event types (repeatable)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l baseline -d 'How far before the window an IP must have been seen to be familiar (default 30d)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l max-speed -d 'Faster than this between two located events is impossible travel (km/h)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand audit-query" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l identity -d 'The compromised identity whose new IPs seed the scan: its UUID, or a login identifier (looked up in Kratos, exact match)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l ip -d 'A suspicious IP (repeatable)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l since -d 'The window reaches back this far from now (default 24h)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l by -d 'Match other identities by IP, user agent, or both' -r -f -a "ip\t'Other identities with events from the suspicious IPs'
ua\t'Other identities with the suspicious user agents (common ones ignored)'
both\t'Either'"
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l min-identities -d 'With --stuffing: distinct identities an IP must have failed against' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l baseline -d 'How far before the window an IP must have been seen to be familiar (default 30d)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l ua-common -d 'With --by ua|both: a user agent used by this many identities in the baseline period is too common to identify anybody and is ignored' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l blocklist -d 'Print the offending IPs as a block list in this format (stdout carries only the list)' -r -f -a "plain\t'One address a line'
caddy\t'A Caddyfile `remote_ip` named matcher and a `respond @atoctl_blocked 403`'
nginx\t'nginx `deny ADDRESS;` lines'
cloudflare\t'The JSON body of Cloudflare\'s list items API (IPv6 as /64, the narrowest it takes)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l stuffing -d 'Credential-stuffing view: IPs with failed logins across many identities (they join the suspicious IPs)'
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand pattern-scan" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l sha1 -d 'The password\'s SHA-1, in hex (either case), computed by the user; `-` reads it from stdin (an argument is visible to other users in the process list)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l nt-hash -d 'An NT hash (Active Directory), 32 hex digits; `-` reads it from stdin. Implies --ntlm' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l sha1-file -d 'Check many hashes from a file (`-`: stdin), one a line: SHA-1, or NT hashes with --ntlm; blank lines and # comments are skipped. Results as JSON lines, in the file\'s order' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l offline -d 'Search a local Pwned Passwords corpus instead of the API: the downloader\'s single sorted file, or its directory of PREFIX.txt files' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l api-url -d 'The range API (default $ATOCTL_HIBP_API_URL, else https://api.pwnedpasswords.com; plain http only to loopback)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l identity -d 'The identity whose password is checked, for the journal entry: its UUID, or a login identifier (looked up in Kratos, exact match)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l concurrency -d 'With --sha1-file online: range requests in flight at once' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l stdin -d 'Read the password from stdin (one line; only the trailing \\n or \\r\\n is removed)'
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l ntlm -d 'NTLM mode: check NT hashes (MD4 of the UTF-16LE password), as Active Directory stores them'
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand hibp-check" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l format -d 'markdown (default) or json' -r -f -a "markdown\t''
json\t''"
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l audience -d 'team (default) or user' -r -f -a "team\t'The incident report: timeline, actions, evidence, root cause, follow-ups, integrity'
user\t'The notice to the account owner, for a second channel: no secret, no internal id'"
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l playbook -d 'The playbook whose open follow-ups the team report lists (default: the bundled one)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand report" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l identity -d 'The identity: its UUID, or a login identifier (exact match); with --from-webhook, the payload\'s data.user_id' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l phase -d 'The phase to run (default the first: immediate); a later phase runs its command steps' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l playbook -d 'The playbook (TOML); default the bundled account-takeover playbook' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l from-webhook -d 'Start from a Castle `$incident.confirmed` payload (a file, or - for stdin)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l webhook-secret -d 'The Castle API secret that signs webhooks; with it the signature must verify' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l signature -d 'The webhook\'s X-Castle-Signature header (base64 HMAC-SHA256 of the body)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l since -d 'The suspected window for the playbook\'s {since} (default: the playbook\'s)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l answers -d 'Answers to the manual items, for automation: a JSON object from step id to the list of answers (or true for an item without questions)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l skip -d 'Leave these steps out of this run (they stay pending), e.g. the audit steps when there is no audit database yet' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l allow-unsigned -d 'Take a webhook payload that no secret authenticates with --yes (without it, each step is confirmed on the terminal anyway)'
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l password-stdin -d 'Read the password for hibp-check steps from stdin (one line) instead of a prompt'
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand respond" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -f -a "check" -d 'Check playbook files (for CI): syntax, fields, ids, commands, placeholders, dependencies, deadlines; exit 0 or 2'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -f -a "show" -d 'Print the checklist with each step\'s status from the incident journal (--incident or ATOCTL_INCIDENT)'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and not __fish_seen_subcommand_from check show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check playbook files (for CI): syntax, fields, ids, commands, placeholders, dependencies, deadlines; exit 0 or 2'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the checklist with each step\'s status from the incident journal (--incident or ATOCTL_INCIDENT)'
complete -c atoctl -n "__fish_atoctl_using_subcommand playbook; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l identity -d 'The identity: its UUID, or a login identifier such as an e-mail address (exact match)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l since -d 'The attacker\'s window reaches back this far from now (default 24h)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l from -d 'The attacker\'s window starts here (RFC 3339, or a date: midnight UTC) and reaches up to now' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l skip -d 'Leave these parts out (comma-separated)' -r -f -a "email\t'E-mail and other traits changed in the window'
oidc\t'Social logins linked in the window'
mfa\t'TOTP, lookup secrets and security keys enrolled in the window'
oauth2\t'OAuth2 consents granted in the window (needs --hydra-admin-url)'
containment\t'Ending every session and disabling the password afterwards'"
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l reversal-key -d '`-`: read the key of the owner\'s "this wasn\'t me" link from stdin (a hidden prompt on a terminal); never give the key itself as an argument' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l ip -d 'The IP address the owner used the link from (recorded as `reversed_ip`)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l write-database-url -d 'Where the reversal writes `user_email_changes` (default: the audit database URL)' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l all-oauth2 -d 'Revoke every OAuth2 consent of the identity, also those granted before the window'
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand restore" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -l playbook -d 'The playbook to rehearse (default the bundled one)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -l dir -d 'Where the drill\'s files go (journal, report, notice); default a new directory under the system\'s temporary directory' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand drill" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -l dir -d 'Write atoctl.1 and one atoctl-SUBCOMMAND.1 page per subcommand (with its options) here' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -l kratos-admin-url -d 'Kratos admin API base URL: the self-hosted admin port (http://127.0.0.1:4434) or https://<slug>.projects.oryapis.com' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -l kratos-token -d 'Kratos admin token, sent as `Authorization: Bearer TOKEN` (an Ory Network project API key, ory_pat_… or ory_apikey_…). Never printed, logged or journaled' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -l kratos-token-file -d 'Read the admin token from FILE (`-`: the first line of stdin) instead: unlike --kratos-token, it then appears in no process listing' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -l hydra-admin-url -d 'Ory Hydra admin API base URL (OAuth2 grants and login sessions), optional' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -l database-url -d 'The audit database (PostgreSQL); ATOCTL_DATABASE_URL, then DATABASE_URL' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -l incident -d 'The incident journal to append to (JSON Lines)' -r -F
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -l operator -d 'Who runs the step; default the login name' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -s o -l output -d 'Output format: `table` for people, `json` (one JSON document on stdout) for scripts; pattern-scan also takes `ids`' -r -f -a "table\t'Tables and sentences for people'
json\t'One JSON document on stdout'
ids\t'Identity ids only, one a line (pattern-scan)'"
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -l timeout -d 'Per-request timeout in seconds. Deadlines follow from it: a call stops retrying at 20×, a listing ends at 15× (incomplete), a step\'s reads before it changes anything end at 30×, each audit-database exchange at this plus 2 s' -r
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -l force-append -d 'Append to the incident journal even when it is damaged (`incident verify` fails): the damage is said, and the new entries chain on after it'
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -s y -l yes -d 'Answer yes to every confirmation'
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -l dry-run -d 'Print exactly what would be sent (method, URL, body with secrets redacted; SQL), planned from the live state (the reads made for it, GETs only, are sent and listed); change nothing, journal nothing'
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c atoctl -n "__fish_atoctl_using_subcommand man" -s V -l version -d 'Print version'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "incident" -d 'Open, annotate, show and verify the incident journal'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "identity" -d 'Show an identity as an incident needs it: state, addresses, credentials with their times, sessions; never a secret'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "sessions" -d 'List an identity\'s sessions with their devices (IP, user agent, location)'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "revoke" -d 'End every session of an identity (evidence first), one session, or many identities'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "disable-password" -d 'Make the identity\'s current password unusable without touching anything else'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "lock" -d 'Set the identity inactive AND end its sessions (inactive alone logs nobody out)'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "unlock" -d 'Set the identity active again, first ending any session that would come back to life'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "recover" -d 'Issue an admin recovery code (default) or link for the rightful owner, shown once'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "schema" -d 'Print the DDL of the audit tables and the indexes atoctl\'s queries need'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "audit-query" -d 'List an identity\'s security events in a window, flagging the suspicious ones'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "pattern-scan" -d 'Find other identities hit from the same IPs or user agents'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "hibp-check" -d 'Check a password against Have I Been Pwned without revealing it'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "report" -d 'Render the incident report for the team, or the notice to the account owner, from the journal alone'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "respond" -d 'Run the playbook for an identity step by step; running it again continues where it stopped'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "playbook" -d 'Check playbook files (for CI), or show the checklist with each step\'s status'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "restore" -d 'Put back what the attacker changed (e-mail, traits) and remove what they added (social logins, MFA, OAuth2 grants), then contain; or reverse one e-mail change from its "this wasn\'t me" key'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "drill" -d 'Rehearse an account takeover end to end on a sandbox atoctl starts on loopback'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, elvish, powershell)'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "man" -d 'Print the man page (roff) on stdout, or write one page per subcommand into a directory'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and not __fish_seen_subcommand_from incident identity sessions revoke disable-password lock unlock recover schema audit-query pattern-scan hibp-check report respond playbook restore drill completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and __fish_seen_subcommand_from incident" -f -a "open" -d 'Create a new journal (at --incident FILE, which must not exist, or under ./incidents/)'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and __fish_seen_subcommand_from incident" -f -a "verify" -d 'Check the journal\'s hash chain; exit 5 naming the first bad line'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and __fish_seen_subcommand_from incident" -f -a "note" -d 'Record a note (and the root cause, when known)'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and __fish_seen_subcommand_from incident" -f -a "show" -d 'Show the timeline as a table, or every entry with -o json'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and __fish_seen_subcommand_from incident" -f -a "close" -d 'End the incident: later steps on its identity open a new one'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and __fish_seen_subcommand_from playbook" -f -a "check" -d 'Check playbook files (for CI): syntax, fields, ids, commands, placeholders, dependencies, deadlines; exit 0 or 2'
complete -c atoctl -n "__fish_atoctl_using_subcommand help; and __fish_seen_subcommand_from playbook" -f -a "show" -d 'Print the checklist with each step\'s status from the incident journal (--incident or ATOCTL_INCIDENT)'
