using System;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace StaticGrad.Kernels
{
    /// <summary>Work that splits into parts which can run on different threads at once.</summary>
    public interface IPartitionedJob
    {
        /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/>; the parts must not write the same memory.</summary>
        /// <param name="part">From 0 to <paramref name="parts"/> − 1.</param>
        /// <param name="parts">How many parts the work is split into.</param>
        void Run(int part, int parts);
    }

    /// <summary>
    /// The calling thread plus <see cref="Threads"/> − 1 background workers of its own, for splitting one piece of work at a
    /// time (a network's matrix products). Workers start on first use, spin briefly after each job (training calls again
    /// within microseconds) and then park in <see cref="Monitor.Wait(object)"/>. Handing over a job allocates nothing: it is a
    /// pointer to the caller's job struct, a few fields and a pulse. A call made while another one uses the workers (from
    /// another thread, or from inside a part) runs all of its parts on its own thread.
    /// </summary>
    public sealed unsafe class WorkerTeam : IDisposable
    {
        private const int SpinRounds = 2000, SpinIterations = 32; // a few hundred microseconds of spinning at most

        private readonly object _signal = new object(); // guards the fields below; workers wait on it
        private int _busy; // 1 while one call uses the workers (not a lock: a job that calls Run again must not re-enter)
        private bool _started;
        private bool _disposed;
        private int _generation;
        private int _pending;
        private void* _job;
        private IJobRunner? _runner;
        private ExceptionDispatchInfo? _failure; // the first exception thrown by a part on a worker, rethrown by Run

        /// <summary>Creates a team; its workers start on the first <see cref="Run{TJob}(ref TJob)"/>.</summary>
        /// <param name="threads">The calling thread plus the workers: 2 to 64.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is outside 2–64.</exception>
        public WorkerTeam(int threads)
        {
            if (threads < 2 || threads > 64)
            {
                throw new ArgumentOutOfRangeException(nameof(threads), threads, "A team has 2 to 64 threads (the calling thread and its workers); use no team for one thread.");
            }

            Threads = threads;
        }

        /// <summary>The calling thread plus the workers.</summary>
        public int Threads { get; }

        /// <summary>
        /// Runs <paramref name="job"/>'s parts 0 … <see cref="Threads"/> − 1, part 0 on this thread and the others on the
        /// workers, and returns when all are done. When another call holds the workers, runs the whole job here as one part.
        /// An exception in any part is rethrown here, on the calling thread, once every part has ended (the job lives on the
        /// caller's stack, so it must not be left while a worker still reads it); the team stays usable.
        /// </summary>
        /// <typeparam name="TJob">The job; it stays on the caller's stack, the workers read it there.</typeparam>
        /// <param name="job">The job.</param>
        public void Run<TJob>(ref TJob job)
            where TJob : struct, IPartitionedJob
        {
            if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
            {
                job.Run(0, 1);
                return;
            }

            try
            {
                lock (_signal)
                {
                    if (!_started)
                    {
                        for (int part = 1; part < Threads; part++)
                        {
                            var worker = new Thread(Work) { IsBackground = true, Name = "StaticGrad worker " + part };
                            worker.Start(part);
                        }

                        _started = true;
                    }

                    _job = Unsafe.AsPointer(ref job);
                    _runner = JobRunner<TJob>.Instance;
                    _pending = Threads - 1;
                    _generation++;
                    Monitor.PulseAll(_signal);
                }

                ExceptionDispatchInfo? own = null;
                try
                {
                    job.Run(0, Threads);
                }
                catch (Exception exception)
                {
                    own = ExceptionDispatchInfo.Capture(exception);
                }

                // The other parts usually finish about now: spin a little before sleeping.
                for (int spin = 0; spin < SpinRounds && Volatile.Read(ref _pending) != 0; spin++)
                {
                    Thread.SpinWait(SpinIterations);
                }

                lock (_signal)
                {
                    while (_pending != 0)
                    {
                        Monitor.Wait(_signal);
                    }

                    _job = null;
                    _runner = null;
                    own ??= _failure;
                    _failure = null;
                }

                own?.Throw();
            }
            finally
            {
                Volatile.Write(ref _busy, 0);
            }
        }

        /// <summary>Lets the workers end once a job in progress is done; later jobs run on the calling thread alone.</summary>
        public void Dispose()
        {
            // Wait for a job in progress, then keep the team busy for good: later jobs run on their caller's thread.
            while (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
            {
                Thread.Yield();
            }

            lock (_signal)
            {
                _disposed = true;
                _generation++;
                Monitor.PulseAll(_signal);
            }
        }

        private void Work(object? state)
        {
            int part = (int)state!;
            int seen = 0;
            while (true)
            {
                for (int spin = 0; spin < SpinRounds && Volatile.Read(ref _generation) == seen; spin++)
                {
                    Thread.SpinWait(SpinIterations);
                }

                void* job;
                IJobRunner runner;
                lock (_signal)
                {
                    while (_generation == seen)
                    {
                        Monitor.Wait(_signal);
                    }

                    if (_disposed)
                    {
                        return;
                    }

                    seen = _generation;
                    job = _job;
                    runner = _runner!;
                }

                try
                {
                    runner.Run(job, part, Threads);
                }
                catch (Exception exception)
                {
                    // Kept for the calling thread; a worker must not die (that would end the process) nor stop serving.
                    lock (_signal)
                    {
                        _failure ??= ExceptionDispatchInfo.Capture(exception);
                    }
                }

                if (Interlocked.Decrement(ref _pending) == 0)
                {
                    lock (_signal)
                    {
                        Monitor.PulseAll(_signal);
                    }
                }
            }
        }

        /// <summary>Calls a job of a type the worker loop does not know, through one cached object per job type.</summary>
        private interface IJobRunner
        {
            void Run(void* job, int part, int parts);
        }

        private sealed class JobRunner<TJob> : IJobRunner
            where TJob : struct, IPartitionedJob
        {
            public static readonly JobRunner<TJob> Instance = new JobRunner<TJob>();

            public void Run(void* job, int part, int parts) => Unsafe.AsRef<TJob>(job).Run(part, parts);
        }
    }
}
