; SPDX-License-Identifier: MIT
;
; pva-setup.exe: the pva guest additions for Windows (x64).
;
;   makensis -DVERSION=0.1.0 -DOUTFILE=.../pva-setup.exe
;            -DAGENT_EXE=.../pva-agent.exe [-DDRIVER_SYS=.../pva.sys
;            -DDRIVER_INF=.../pva.inf [-DDRIVER_CAT=.../pva.cat]]
;            [-DDOC_DIR=.../docs] pva.nsi
;   (make windows-installer does this)
;
; Installs into %ProgramFiles%\pva: pva-agent.exe, started at every logon
; in each user's session by the HKLM Run key (docs/windows.md says why not
; a service), and, when built with them, the driver's files, installed
; with pnputil. The uninstaller removes all of it: files, registry keys,
; the driver package, the agent's logs in %ProgramData%\pva. Silent with
; /S (uninstall.exe /S too).
;
; A 64-bit installer (Target amd64-unicode): it writes the 64-bit
; registry and Program Files, and wine64 alone runs it.

Unicode true
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel admin
SetCompressor /SOLID lzma

!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef OUTFILE
  !define OUTFILE "pva-setup.exe"
!endif
!ifndef AGENT_EXE
  !error "define AGENT_EXE, the path of pva-agent.exe (make windows-installer)"
!endif
!ifdef DRIVER_SYS
  !ifndef DRIVER_INF
    !error "DRIVER_SYS without DRIVER_INF"
  !endif
!endif

!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\pva"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define PVA_KEY "Software\pva"

!include LogicLib.nsh
!include x64.nsh

Name "pva guest additions ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\pva"
ShowInstDetails show
ShowUninstDetails show

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "pva guest additions"
VIAddVersionKey "FileDescription" "pva guest additions installer"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "LegalCopyright" "MIT License"

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

; $R0: the text to search; $R1 on return: the first "oemNN.inf" in it, or
; "". pnputil prints the name it published the driver under
; ("Published Name: oem12.inf"); the uninstaller needs that name.
Function FindOemInf
  Push $R2
  Push $R3
  Push $R4
  StrCpy $R1 ""
  StrLen $R4 $R0
  StrCpy $R2 0
  ${Do}
    ${If} $R2 >= $R4
      ${Break}
    ${EndIf}
    StrCpy $R3 $R0 3 $R2
    ${If} $R3 == "oem"
      ; the digits, then ".inf"
      IntOp $R3 $R2 + 3
      ${Do}
        StrCpy $R1 $R0 1 $R3
        ${If} $R1 S< "0"
        ${OrIf} $R1 S> "9"
          ${Break}
        ${EndIf}
        IntOp $R3 $R3 + 1
      ${Loop}
      StrCpy $R1 $R0 4 $R3
      ${If} $R1 == ".inf"
        IntOp $R3 $R3 + 4
        IntOp $R3 $R3 - $R2
        StrCpy $R1 $R0 $R3 $R2
        ${Break}
      ${EndIf}
      StrCpy $R1 ""
    ${EndIf}
    IntOp $R2 $R2 + 1
  ${Loop}
  Pop $R4
  Pop $R3
  Pop $R2
FunctionEnd

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "pva needs 64-bit Windows." /SD IDOK
    Abort
  ${EndIf}
  SetRegView 64
FunctionEnd

Section "pva"
  SetShellVarContext all
  ; an upgrade: this session's agent lets go of its exe
  ${If} ${FileExists} "$INSTDIR\pva-agent.exe"
    ExecWait '"$INSTDIR\pva-agent.exe" --stop'
  ${EndIf}

  SetOutPath "$INSTDIR"
  File "/oname=pva-agent.exe" "${AGENT_EXE}"
!ifdef DOC_DIR
  File "/oname=README-windows.md" "${DOC_DIR}/windows.md"
!endif

  ; the agents of all users log here: Users may write, the installer
  ; (an administrator) creates it
  CreateDirectory "$APPDATA\pva"
  ${If} ${FileExists} "$SYSDIR\icacls.exe"
    nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$APPDATA\pva" /grant *S-1-5-32-545:(OI)(CI)M'
    Pop $0
  ${EndIf}

!ifdef DRIVER_SYS
  SetOutPath "$INSTDIR\driver"
  File "/oname=pva.sys" "${DRIVER_SYS}"
  File "/oname=pva.inf" "${DRIVER_INF}"
  !ifdef DRIVER_CAT
    File "/oname=pva.cat" "${DRIVER_CAT}"
  !endif
  ${If} ${FileExists} "$SYSDIR\pnputil.exe"
    nsExec::ExecToStack '"$SYSDIR\pnputil.exe" /add-driver "$INSTDIR\driver\pva.inf" /install'
    Pop $0
    Pop $R0
    DetailPrint "pnputil /add-driver: exit $0"
    DetailPrint "$R0"
    Call FindOemInf
    ${If} $R1 != ""
      WriteRegStr HKLM "${PVA_KEY}" "DriverPublishedName" "$R1"
    ${EndIf}
    ${If} $0 != 0
    ${AndIf} $0 != 3010
      DetailPrint "The driver was not installed (test signing? see docs\windows.md)."
    ${EndIf}
  ${Else}
    ; wine has no pnputil (and no PCI device for the driver)
    DetailPrint "No pnputil.exe: the driver's files are in $INSTDIR\driver, not installed."
  ${EndIf}
!endif

  ; every logon starts the agent in that user's session
  WriteRegStr HKLM "${RUN_KEY}" "pva-agent" '"$INSTDIR\pva-agent.exe"'

  WriteRegStr HKLM "${PVA_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${PVA_KEY}" "Version" "${VERSION}"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "pva guest additions"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "pva"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\pva-agent.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1

  ; interactive: the agent starts now, as the user (explorer starts it
  ; unelevated), not only at the next logon
  ${IfNot} ${Silent}
    Exec '"$WINDIR\explorer.exe" "$INSTDIR\pva-agent.exe"'
  ${EndIf}
SectionEnd

Function un.onInit
  SetRegView 64
FunctionEnd

Section "Uninstall"
  SetShellVarContext all
  ; the agents must let go of the exe: this session's asks nicely, the
  ; others' (other users) are ended
  ${If} ${FileExists} "$INSTDIR\pva-agent.exe"
    ExecWait '"$INSTDIR\pva-agent.exe" --stop'
  ${EndIf}
  ${If} ${FileExists} "$SYSDIR\taskkill.exe"
    nsExec::ExecToLog '"$SYSDIR\taskkill.exe" /F /IM pva-agent.exe'
    Pop $0
  ${EndIf}

  DeleteRegValue HKLM "${RUN_KEY}" "pva-agent"

  ReadRegStr $R1 HKLM "${PVA_KEY}" "DriverPublishedName"
  ${If} $R1 != ""
    ${If} ${FileExists} "$SYSDIR\pnputil.exe"
      nsExec::ExecToLog '"$SYSDIR\pnputil.exe" /delete-driver $R1 /uninstall /force'
      Pop $0
      DetailPrint "pnputil /delete-driver $R1: exit $0"
    ${Else}
      DetailPrint "No pnputil.exe: the driver package $R1 stays in the driver store."
    ${EndIf}
  ${EndIf}

  Delete "$INSTDIR\driver\pva.sys"
  Delete "$INSTDIR\driver\pva.inf"
  Delete "$INSTDIR\driver\pva.cat"
  RMDir "$INSTDIR\driver"
  Delete "$INSTDIR\pva-agent.exe"
  Delete "$INSTDIR\README-windows.md"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  ; the logs the agents wrote
  Delete "$APPDATA\pva\agent.log"
  Delete "$APPDATA\pva\agent.log.1"
  RMDir "$APPDATA\pva"

  DeleteRegKey HKLM "${PVA_KEY}"
  DeleteRegKey HKLM "${UNINST_KEY}"
SectionEnd
