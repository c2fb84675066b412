package dev.doorbuster.app;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.doorbuster.app.StorefrontConfig.HelpRequested;
import dev.doorbuster.app.StorefrontConfig.UsageException;

/**
 * The storefront's command line and {@code --config FILE} (key=value lines, {@code #} comments): {@code --flag value},
 * {@code --flag=value}, a {@link StorefrontSetting#takesNoValue() boolean flag} alone. Flags are the
 * {@link StorefrontSetting}s'. Values from the file come first; the command line overrides them, flag by flag. A
 * repeated flag keeps its last value, except a {@link StorefrontSetting#repeatable() repeatable} one
 * ({@code reader-url}), which keeps every value (and, given on the command line, replaces the file's list as a whole).
 */
final class StorefrontArgs {
    private static final String CONFIG = "config";

    private StorefrontArgs() {
    }

    static StorefrontConfig parse(String... args) throws UsageException, HelpRequested {
        Map<StorefrontSetting, List<String>> fromCommandLine = new EnumMap<>(StorefrontSetting.class);
        String configFile = null;
        for (int i = 0; i < args.length; i++) {
            String arg = Objects.requireNonNull(args[i]);
            if (arg.equals("--help") || arg.equals("-h")) {
                throw new HelpRequested();
            }
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new UsageException("unexpected argument '" + arg + "' (options start with --)");
            }
            String name = arg.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            StorefrontSetting setting = StorefrontSetting.byFlag(name);
            if (setting == null && !name.equals(CONFIG)) {
                throw new UsageException("unknown option --" + name);
            }
            if (value == null) {
                if (setting != null && setting.takesNoValue()) {
                    value = "true";
                } else if (i + 1 < args.length) {
                    value = args[++i];
                } else {
                    throw new UsageException("option --" + name + " needs a value");
                }
            }
            if (setting == null) {
                configFile = value;
            } else {
                add(fromCommandLine, setting, value);
            }
        }
        Map<StorefrontSetting, List<String>> options = new EnumMap<>(StorefrontSetting.class);
        if (configFile != null) {
            options.putAll(readFile(Path.of(configFile)));
        }
        options.putAll(fromCommandLine);
        return build(options);
    }

    private static void add(Map<StorefrontSetting, List<String>> options, StorefrontSetting setting, String value) {
        List<String> values = options.computeIfAbsent(setting, n -> new ArrayList<>());
        if (!setting.repeatable()) {
            values.clear(); // the last one wins
        }
        values.add(value);
    }

    private static Map<StorefrontSetting, List<String>> readFile(Path file) throws UsageException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UsageException("cannot read config file " + file + ": " + e.getMessage());
        }
        Map<StorefrontSetting, List<String>> options = new EnumMap<>(StorefrontSetting.class);
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new UsageException(file + ":" + (n + 1) + ": expected key=value, got '" + line + "'");
            }
            String key = line.substring(0, eq).strip();
            key = key.startsWith("--") ? key.substring(2) : key;
            StorefrontSetting setting = StorefrontSetting.byFlag(key);
            if (setting == null) {
                throw new UsageException(file + ":" + (n + 1) + ": unknown option '" + key + "'");
            }
            add(options, setting, line.substring(eq + 1).strip());
        }
        return options;
    }

    private static StorefrontConfig build(Map<StorefrontSetting, List<String>> options) throws UsageException {
        StorefrontConfig.Builder b = StorefrontConfig.builder();
        try {
            for (Map.Entry<StorefrontSetting, List<String>> e : options.entrySet()) {
                StorefrontSetting setting = e.getKey();
                List<String> values = e.getValue();
                if (setting.repeatable()) {
                    b.set(setting, values); // each checked by build(), which knows how many there are
                } else {
                    b.set(setting, setting.parse(values.get(values.size() - 1)));
                }
            }
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
