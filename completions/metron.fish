# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_metron_global_optspecs
    string join \n config= color= q/quiet h/help V/version
end

function __fish_metron_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_metron_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_metron_using_subcommand
    set -l cmd (__fish_metron_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c metron -n "__fish_metron_needs_command" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_needs_command" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_needs_command" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_needs_command" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_needs_command" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_needs_command" -f -a "parse" -d 'Parse raw sensor output into normalized events (NDJSON)'
complete -c metron -n "__fish_metron_needs_command" -f -a "generate" -d 'Generate synthetic telemetry (Zeek conn TSV, Suricata EVE) for benchmarks and demos'
complete -c metron -n "__fish_metron_needs_command" -f -a "demo" -d 'Run every stage over bundled sample data and print a summary'
complete -c metron -n "__fish_metron_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metron -n "__fish_metron_using_subcommand parse" -s f -l format -d 'Input format: auto, zeek, bro, suricata, snort, yaf, squid, asa, syslog, cef, leef, or a [parsers.NAME]' -r
complete -c metron -n "__fish_metron_using_subcommand parse" -s o -l output -d 'Write events here instead of stdout (.zst and .gz compress)' -r -F
complete -c metron -n "__fish_metron_using_subcommand parse" -l errors -d 'Write every error record here (NDJSON) instead of summarizing them on stderr' -r -F
complete -c metron -n "__fish_metron_using_subcommand parse" -l max-line-bytes -d 'Longest line accepted; longer lines become error records [default: 1048576]' -r
complete -c metron -n "__fish_metron_using_subcommand parse" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand parse" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand parse" -s F -l follow -d 'Keep reading: growing files, and new files in named directories (survives rotation)'
complete -c metron -n "__fish_metron_using_subcommand parse" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand parse" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand parse" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand generate" -s n -l count -d 'How many records' -r
complete -c metron -n "__fish_metron_using_subcommand generate" -l seed -d 'Random seed: the same seed gives the same output' -r
complete -c metron -n "__fish_metron_using_subcommand generate" -s o -l output -d 'Write here instead of stdout (.zst and .gz compress)' -r -F
complete -c metron -n "__fish_metron_using_subcommand generate" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand generate" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand generate" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand generate" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand generate" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand demo" -s o -l output -d 'Also write the demo\'s events here (NDJSON)' -r -F
complete -c metron -n "__fish_metron_using_subcommand demo" -l config -d 'Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml)' -r -F
complete -c metron -n "__fish_metron_using_subcommand demo" -l color -d 'When to use colour on stderr (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metron -n "__fish_metron_using_subcommand demo" -s q -l quiet -d 'No summary line or progress on stderr'
complete -c metron -n "__fish_metron_using_subcommand demo" -s h -l help -d 'Print help'
complete -c metron -n "__fish_metron_using_subcommand demo" -s V -l version -d 'Print version'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from parse generate demo help" -f -a "parse" -d 'Parse raw sensor output into normalized events (NDJSON)'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from parse generate demo help" -f -a "generate" -d 'Generate synthetic telemetry (Zeek conn TSV, Suricata EVE) for benchmarks and demos'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from parse generate demo help" -f -a "demo" -d 'Run every stage over bundled sample data and print a summary'
complete -c metron -n "__fish_metron_using_subcommand help; and not __fish_seen_subcommand_from parse generate demo help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
