/*
 * bcryptprimitives.dll for Wine, test use only: Go 1.24 and later call
 * ProcessPrng from this DLL at start-up (runtime.osinit) and for
 * crypto/rand; Wine 8 has no bcryptprimitives.dll, so a Windows build of
 * porthole cannot start under it. This stub exports the one function, backed
 * by Wine's bcrypt.dll system RNG (BCryptGenRandom with
 * BCRYPT_USE_SYSTEM_PREFERRED_RNG), so the bytes are real random bytes, not a
 * constant. cmd/porthole/wine_test.go builds it with mingw-w64 into a
 * throwaway Wine prefix; it is never shipped.
 *
 * On Windows ProcessPrng never fails; it returns TRUE. Here a failure of the
 * system RNG returns FALSE, which makes the Go runtime abort rather than run
 * on unfilled bytes.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
	(void)inst; (void)reason; (void)reserved;
	return TRUE;
}
