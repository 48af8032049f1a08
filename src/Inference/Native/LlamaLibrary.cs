using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentTheater.Inference.Native;

/// <summary>Which llama.cpp build the process loaded.</summary>
public enum LlamaBackendKind
{
    /// <summary>The CPU build.</summary>
    Cpu,

    /// <summary>The CUDA build with at least one CUDA device.</summary>
    Cuda,
}

/// <summary>What <see cref="LlamaLibrary.Initialize"/> loaded.</summary>
/// <param name="Directory">Folder the libraries were loaded from.</param>
/// <param name="Backend">CPU or CUDA.</param>
/// <param name="Devices">ggml devices, as "name: description".</param>
/// <param name="SystemInfo">llama_print_system_info().</param>
public sealed record LlamaRuntimeInfo(string Directory, LlamaBackendKind Backend, IReadOnlyList<string> Devices, string SystemInfo);

/// <summary>
/// Loads llama.cpp once per process: picks the native folder (explicit, <c>AGENTTHEATER_NATIVE_DIR</c>,
/// or CUDA when its libraries and a device load, else CPU), routes llama.cpp's log into
/// <see cref="ILogger"/>, loads the ggml backends and initialises llama.
/// </summary>
public static partial class LlamaLibrary
{
    /// <summary>Environment variable that names the folder to load llama.cpp from.</summary>
    public const string NativeDirectoryVariable = "AGENTTHEATER_NATIVE_DIR";

    private const int GgmlDeviceTypeGpu = 1;
    private static readonly Lock Gate = new();
    private static LlamaRuntimeInfo? _info;
    private static string? _directory;
    private static ILogger _log = NullLogger.Instance;

    [ThreadStatic]
    private static StringBuilder? _recentErrors;

    /// <summary>The loaded runtime, or null before <see cref="Initialize"/>.</summary>
    public static LlamaRuntimeInfo? Info => _info;

    /// <summary>
    /// Loads llama.cpp. Later calls return the first result (a process can load one build only); a later call's
    /// logger receives llama.cpp's log, starting with what was loaded, when the first call gave none (a model checked
    /// before its host started).
    /// </summary>
    /// <param name="nativeDirectory">Folder holding libllama; null to use the environment or the automatic choice.</param>
    /// <param name="logger">Receives llama.cpp's log lines.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist or holds no libllama.</exception>
    public static LlamaRuntimeInfo Initialize(string? nativeDirectory = null, ILogger? logger = null)
    {
        lock (Gate)
        {
            if (_info is not null)
            {
                if (logger is not null && _log == NullLogger.Instance)
                {
                    _log = logger;
                    var loaded = string.Join("; ", _info.Devices);
                    LogLoaded(_log, _info.Backend, _info.Directory, loaded);
                }

                return _info;
            }

            _log = logger ?? NullLogger.Instance;
            var directory = ChooseDirectory(nativeDirectory ?? Environment.GetEnvironmentVariable(NativeDirectoryVariable));
            _directory = directory;
            NativeLibrary.SetDllImportResolver(typeof(LlamaLibrary).Assembly, Resolve);
            unsafe
            {
                LlamaApi.llama_log_set(&OnNativeLog, null);
            }

            LlamaApi.ggml_backend_load_all_from_path(directory);
            LlamaApi.llama_backend_init();
            var devices = new List<string>();
            var gpu = false;
            for (nuint i = 0; i < LlamaApi.ggml_backend_dev_count(); i++)
            {
                var device = LlamaApi.ggml_backend_dev_get(i);
                unsafe
                {
                    devices.Add($"{Utf8(LlamaApi.ggml_backend_dev_name(device))}: {Utf8(LlamaApi.ggml_backend_dev_description(device))}");
                }

                gpu |= LlamaApi.ggml_backend_dev_type(device) == GgmlDeviceTypeGpu;
            }

            string systemInfo;
            unsafe
            {
                systemInfo = Utf8(LlamaApi.llama_print_system_info());
            }

            var backend = gpu && LlamaApi.llama_supports_gpu_offload() ? LlamaBackendKind.Cuda : LlamaBackendKind.Cpu;
            _info = new LlamaRuntimeInfo(directory, backend, devices, systemInfo);
            var deviceList = string.Join("; ", devices);
            LogLoaded(_log, backend, directory, deviceList);
            return _info;
        }
    }

    /// <summary>Takes the error lines llama.cpp logged on this thread since the last call.</summary>
    internal static string TakeRecentErrors()
    {
        var text = _recentErrors?.ToString().Trim() ?? string.Empty;
        _recentErrors?.Clear();
        return text;
    }

    /// <summary>Converts a NUL-terminated UTF-8 string.</summary>
    internal static unsafe string Utf8(byte* text) => text is null ? string.Empty : Marshal.PtrToStringUTF8((IntPtr)text) ?? string.Empty;

    private static string ChooseDirectory(string? requested)
    {
        if (!string.IsNullOrWhiteSpace(requested))
        {
            var full = Path.GetFullPath(requested);
            if (FindLibrary(full, "libllama.") is null)
            {
                throw new DirectoryNotFoundException($"{full}: no libllama*.so here (set by {NativeDirectoryVariable} or the NativeDirectory option).");
            }

            return full;
        }

        var root = Path.Combine(AppContext.BaseDirectory, "llama");
        var cuda = Path.Combine(root, "cuda");
        if (FindLibrary(cuda, "libllama.") is not null && CudaLoads(cuda))
        {
            return cuda;
        }

        var cpu = Path.Combine(root, "cpu");
        if (FindLibrary(cpu, "libllama.") is null)
        {
            throw new DirectoryNotFoundException($"{cpu}: llama.cpp's libraries are missing; build the solution (it fetches them) or set {NativeDirectoryVariable}.");
        }

        return cpu;
    }

    private static bool CudaLoads(string directory)
    {
        var cudaBackend = Path.Combine(directory, "libggml-cuda.so");
        if (!File.Exists(cudaBackend) || !NativeLibrary.TryLoad(cudaBackend, out var handle))
        {
            LogCudaUnavailable(_log, directory);
            return false;
        }

        NativeLibrary.Free(handle);
        return true;
    }

    private static string? FindLibrary(string directory, string prefix) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, prefix + "*so*").OrderBy(f => f.Length).FirstOrDefault()
            : null;

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        var prefix = name switch
        {
            LlamaApi.Llama => "libllama.",
            LlamaApi.Ggml => "libggml.",
            LlamaApi.GgmlBase => "libggml-base.",
            _ => null,
        };
        return prefix is not null && _directory is not null && FindLibrary(_directory, prefix) is { } path
            ? NativeLibrary.Load(path)
            : IntPtr.Zero;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void OnNativeLog(int level, byte* text, void* userData)
    {
        var line = Utf8(text).TrimEnd();
        if (line.Length == 0)
        {
            return;
        }

        // ggml_log_level: 1 debug, 2 info, 3 warn, 4 error, 5 continuation.
        var logLevel = level switch
        {
            4 => LogLevel.Error,
            3 => LogLevel.Warning,
            2 => LogLevel.Debug,
            _ => LogLevel.Trace,
        };
        if (logLevel >= LogLevel.Warning)
        {
            (_recentErrors ??= new StringBuilder()).AppendLine(line);
            if (_recentErrors.Length > 8192)
            {
                _recentErrors.Remove(0, _recentErrors.Length - 4096);
            }
        }

        LogNative(_log, logLevel, line);
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "llama.cpp loaded: {Backend} from {Directory} (devices: {Devices})")]
    private static partial void LogLoaded(ILogger logger, LlamaBackendKind backend, string directory, string devices);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "CUDA build in {Directory} does not load on this machine; using the CPU build")]
    private static partial void LogCudaUnavailable(ILogger logger, string directory);

    [LoggerMessage(EventId = 1002, Message = "llama.cpp: {Line}")]
    private static partial void LogNative(ILogger logger, LogLevel level, string line);
}
